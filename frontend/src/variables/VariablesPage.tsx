/** Global variables: list and search them, edit a value as JSON, see who changed it and when. */
import { useCallback, useEffect, useMemo, useState } from "react";
import { ApiError } from "../api/client";
import { TopBar } from "../app/TopBar";
import { Button } from "../ui/Button";
import { Icon } from "../ui/Icon";
import { confirmDialog, toast } from "../ui/overlays";
import { dateTime, timeAgo } from "../ui/format";
import "../styles/variables.css";
import { variablesApi, type Variable, type VariableChange } from "./api";
import { changeAuthor, keyProblem, parseValue, preview, valueText } from "./values";

function errorText(error: unknown): string {
  return error instanceof ApiError || error instanceof Error ? error.message : String(error);
}

/** What the editor panel holds: an existing key (with the version it was loaded at) or a new one. */
type Editing = { key: string; version: number; text: string; isNew: false } | { key: string; version: 0; text: string; isNew: true };

export function VariablesPage() {
  const [variables, setVariables] = useState<Variable[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [search, setSearch] = useState("");
  const [editing, setEditing] = useState<Editing | null>(null);
  const [history, setHistory] = useState<VariableChange[] | null>(null);
  const [saving, setSaving] = useState(false);

  const load = useCallback(async () => {
    try {
      setVariables((await variablesApi.list()).results);
      setLoadError(null);
    } catch (error) {
      setLoadError(errorText(error));
    }
  }, []);

  useEffect(() => {
    document.title = "Variables · NodeFlow";
    void load();
  }, [load]);

  const shown = useMemo(() => {
    const words = search.toLowerCase().split(/\s+/).filter(Boolean);
    return (variables ?? []).filter((variable) => words.every((word) => variable.key.toLowerCase().includes(word)));
  }, [variables, search]);

  const open = async (key: string) => {
    try {
      const variable = await variablesApi.get(key);
      setEditing({ key, version: variable.version, text: valueText(variable.value), isNew: false });
      setHistory((await variablesApi.history(key)).results);
    } catch (error) {
      toast(`Could not open ${key}: ${errorText(error)}`, "error");
    }
  };

  const parsed = editing ? parseValue(editing.text) : null;
  const badKey = editing?.isNew ? keyProblem(editing.key) : null;

  const save = async () => {
    if (!editing || !parsed?.ok || badKey) return;
    setSaving(true);
    try {
      // The version it was opened at: a workflow that changed it meanwhile is not overwritten unseen.
      const saved = await variablesApi.put(editing.key, parsed.value, editing.isNew ? 0 : editing.version);
      toast(`Saved ${saved.key} (version ${saved.version}).`);
      setEditing({ key: saved.key, version: saved.version, text: valueText(saved.value), isNew: false });
      setHistory((await variablesApi.history(saved.key)).results);
      void load();
    } catch (error) {
      if (error instanceof ApiError && error.code === "conflict") {
        toast(editing.isNew ? `${editing.key} exists already: open it to edit it.`
          : `${editing.key} changed since you opened it (now version ${(error.details as { version?: number })?.version}). Reload it to see the new value.`, "error");
      } else toast(`Not saved: ${errorText(error)}`, "error");
    } finally {
      setSaving(false);
    }
  };

  const remove = async () => {
    if (!editing || editing.isNew) return;
    const sure = await confirmDialog({
      title: `Delete ${editing.key}?`,
      message: "Workflows reading it fail (unless they give a default); its history stays.",
      confirmLabel: "Delete variable",
      danger: true,
    });
    if (!sure) return;
    try {
      await variablesApi.remove(editing.key);
      toast(`Deleted ${editing.key}.`);
      setEditing(null);
      setHistory(null);
      void load();
    } catch (error) {
      toast(`Not deleted: ${errorText(error)}`, "error");
    }
  };

  return (
    <div className="nf-page">
      <TopBar />
      <main className="nf-list-page nf-variables">
        <div className="nf-list-head">
          <div>
            <h1>Variables</h1>
            <p className="nf-muted">
              {variables ? `${variables.length} global variable${variables.length === 1 ? "" : "s"}` : "Loading…"} · read as <code>{"{{ globals.key }}"}</code>, written by Set nodes with scope global and by code through <code>ctx["globals"]</code>
            </p>
          </div>
          <div className="nf-list-tools">
            <label className="nf-search">
              <Icon name="search" />
              <input type="search" placeholder="Search keys" aria-label="Search variables" value={search} onChange={(event) => setSearch(event.target.value)} />
            </label>
            <Button size="small" onClick={load} title="Load the current values">Refresh</Button>
            <Button variant="primary" icon="plus" onClick={() => { setEditing({ key: "", version: 0, text: "null", isNew: true }); setHistory(null); }}>New variable</Button>
          </div>
        </div>

        <div className="nf-banner nf-banner--note" role="note" data-secrets-note>
          <Icon name="alert" /> Every workflow of yours can read these values, and they are shown here in clear text: keep passwords, tokens and keys in credentials, not in variables.
        </div>

        {loadError && (
          <div className="nf-banner nf-banner--error" role="alert">
            <Icon name="alert" /> Could not load your variables: {loadError} <Button size="small" onClick={load}>Retry</Button>
          </div>
        )}

        <div className="nf-variables-body">
          <table className="nf-table" aria-label="Variables">
            <thead>
              <tr><th>Key</th><th>Value</th><th>Version</th><th>Updated</th></tr>
            </thead>
            <tbody>
              {shown.map((variable) => (
                <tr key={variable.key} data-variable-key={variable.key} aria-selected={editing?.key === variable.key}
                  className={editing?.key === variable.key ? "nf-row--selected" : undefined}>
                  <td className="nf-table-name"><button type="button" className="nf-link-button" onClick={() => void open(variable.key)}>{variable.key}</button></td>
                  <td className="nf-mono nf-small">{preview(variable.value)}</td>
                  <td>v{variable.version}</td>
                  <td title={dateTime(variable.updated_at)}>{timeAgo(variable.updated_at)}</td>
                </tr>
              ))}
              {variables && shown.length === 0 && (
                <tr><td colSpan={4} className="nf-muted">{variables.length ? "No key matches the search." : "No variables yet: create one here, or let a workflow write one."}</td></tr>
              )}
            </tbody>
          </table>

          {editing && (
            <section className="nf-variable-editor" aria-label="Edit variable">
              {editing.isNew ? (
                <label className="nf-field">
                  <span>Key</span>
                  <input className="nf-input nf-mono" aria-label="Key" value={editing.key} autoFocus
                    onChange={(event) => setEditing({ ...editing, key: event.target.value })} aria-invalid={badKey ? true : undefined} />
                  {badKey && editing.key && <span className="nf-field-error">{badKey}</span>}
                </label>
              ) : (
                <h2 className="nf-mono">{editing.key} <span className="nf-muted nf-small">version {editing.version}</span></h2>
              )}
              <label className="nf-field">
                <span>Value (JSON)</span>
                <textarea className="nf-input nf-textarea nf-mono" aria-label="Value" rows={Math.max(4, Math.min(16, editing.text.split("\n").length))}
                  spellCheck={false} value={editing.text} aria-invalid={parsed && !parsed.ok ? true : undefined}
                  onChange={(event) => setEditing({ ...editing, text: event.target.value })} />
                {parsed && !parsed.ok && <span className="nf-field-error" role="status">Not JSON: {parsed.message}</span>}
              </label>
              <div className="nf-variable-actions">
                <Button variant="primary" icon="save" onClick={save} disabled={saving || !parsed?.ok || Boolean(badKey)}>Save</Button>
                {!editing.isNew && <Button icon="trash" onClick={remove}>Delete</Button>}
                <Button onClick={() => { setEditing(null); setHistory(null); }}>Close</Button>
              </div>
              {history && (
                <div className="nf-variable-history">
                  <h3>History</h3>
                  {history.length === 0 && <p className="nf-muted">No changes recorded.</p>}
                  <ol aria-label="History">
                    {history.map((change) => (
                      <li key={change.id} data-change-op={change.op}>
                        <div><strong>{change.op}</strong> v{change.old_version} → {change.new_version ? `v${change.new_version}` : "deleted"} · {changeAuthor(change)} · <span title={dateTime(change.at)}>{timeAgo(change.at)}</span></div>
                        <div className="nf-mono nf-small">{preview(change.old, 60)} → {preview(change.new, 60)}</div>
                        {change.started.length > 0 && <div className="nf-small nf-muted">started {change.started.length} execution(s)</div>}
                        {change.trigger_error && <div className="nf-small nf-field-error">{change.trigger_error}</div>}
                      </li>
                    ))}
                  </ol>
                </div>
              )}
            </section>
          )}
        </div>
      </main>
    </div>
  );
}
