/** The report of an import from n8n or stageflow, shown over the canvas of the new draft until dismissed. */
import { useState } from "react";
import { IconButton } from "../ui/Button";
import { Icon } from "../ui/Icon";
import { FORMAT_TITLES, forgetReport, keptReport, reportSummary } from "../workflows/imports";

type Entry = { from?: unknown; to?: unknown; reason?: unknown; notes?: unknown };

export function ImportReportPanel({ workflowId }: { workflowId: string }) {
  const [stored, setStored] = useState(() => keptReport(workflowId));
  // Open when something needs the user's work; a clean import shows its one-line summary only.
  const [open, setOpen] = useState(() => (stored?.report.untranslated.length ?? 0) > 0);
  if (!stored) return null;
  const { format, report } = stored;
  const untranslated = report.untranslated as Entry[];
  const translated = report.translated as Entry[];
  const dismiss = () => {
    forgetReport(workflowId);
    setStored(null);
  };
  return (
    <section className={`nf-import-report ${untranslated.length ? "nf-import-report--partial" : ""}`} aria-label="Import report">
      <header className="nf-import-report-head">
        <Icon name={untranslated.length ? "alert" : "check"} />
        <button type="button" className="nf-import-report-toggle" aria-expanded={open} onClick={() => setOpen(!open)}>
          Imported from {FORMAT_TITLES[format]}: {reportSummary(report)}
        </button>
        <IconButton icon="x" label="Dismiss the import report" onClick={dismiss} />
      </header>
      {open && (
        <div className="nf-import-report-body">
          {untranslated.length > 0 && (
            <>
              <h3>Not translated <small>(a placeholder node stands in for each, marked on the canvas)</small></h3>
              <ul data-report="untranslated">
                {untranslated.map((entry, index) => (
                  <li key={index}><strong>{String(entry.from)}</strong>: {String(entry.reason)}</li>
                ))}
              </ul>
            </>
          )}
          {report.warnings.length > 0 && (
            <>
              <h3>Warnings</h3>
              <ul data-report="warnings">
                {report.warnings.map((warning, index) => <li key={index}>{warning}</li>)}
              </ul>
            </>
          )}
          <details>
            <summary>Translated ({translated.length})</summary>
            <ul data-report="translated">
              {translated.map((entry, index) => (
                <li key={index}>
                  <strong>{String(entry.from)}</strong> → <code>{String(entry.to)}</code>
                  {Array.isArray(entry.notes) && entry.notes.length > 0 && <span className="nf-import-report-notes"> — {entry.notes.join("; ")}</span>}
                </li>
              ))}
            </ul>
          </details>
        </div>
      )}
    </section>
  );
}
