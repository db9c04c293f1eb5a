/** What a trigger node needs people to know: a webhook's URLs, a schedule's next fire times. */
import type { Trigger } from "../api/types";
import { IconButton } from "../ui/Button";
import { toast } from "../ui/overlays";
import { dateTimeSeconds } from "../ui/format";
import { VariableTriggerInfo } from "../variables/VariableTriggerInfo";
import { ListenButton } from "./ListenButton";

async function copy(text: string) {
  try {
    await navigator.clipboard.writeText(text);
    toast("Copied to the clipboard.");
  } catch {
    window.prompt("Copy the URL:", text);
  }
}

function UrlRow({ label, url, hint }: { label: string; url: string; hint: string }) {
  return (
    <div className="nf-url">
      <div className="nf-url-label">{label}</div>
      <div className="nf-url-row">
        <code className="nf-url-value" title={url}>{url}</code>
        <IconButton icon="copy" label={`Copy the ${label.toLowerCase()}`} onClick={() => void copy(url)} />
      </div>
      <div className="nf-field-help">{hint}</div>
    </div>
  );
}

export function TriggerInfo({ type, trigger, published, dirty, params }: {
  type: string; trigger: Trigger | undefined; published: boolean; dirty: boolean; params?: Record<string, unknown>;
}) {
  if (type === "trigger.variable") {
    return <VariableTriggerInfo pattern={typeof params?.key === "string" ? params.key : ""} published={published} />;
  }
  if (type === "trigger.webhook") {
    return (
      <section className="nf-trigger-info" aria-label="Webhook URLs">
        {trigger?.url ? (
          <UrlRow label="Production URL" url={trigger.url} hint={published ? "Runs the published version." : "Answers once the workflow is published."} />
        ) : null}
        {trigger?.test_url ? <UrlRow label="Test URL" url={trigger.test_url} hint="Runs the saved draft while the editor listens: click Listen, then call it; the run shows live on the canvas." /> : null}
        {trigger?.test_url ? <ListenButton small /> : null}
        {!trigger?.url && !trigger?.test_url && (
          <p className="nf-muted nf-small">{dirty ? "Save the workflow to get this webhook's URLs." : "This webhook's URLs appear here once the server has issued them."}</p>
        )}
      </section>
    );
  }
  if (type === "trigger.schedule") {
    const runs = trigger?.next_runs ?? [];
    return (
      <section className="nf-trigger-info" aria-label="Next runs">
        <div className="nf-url-label">Next runs{published ? "" : " (once published)"}</div>
        {runs.length ? (
          <ol className="nf-next-runs">{runs.map((run) => <li key={run}>{dateTimeSeconds(run)}</li>)}</ol>
        ) : (
          <p className="nf-muted nf-small">
            {!published ? "A schedule runs the published version: publish the workflow to start it, and its next runs show here."
              : dirty ? "Save to see when it fires next." : "Set “every” or a cron expression to see when it fires."}
          </p>
        )}
      </section>
    );
  }
  return null;
}
