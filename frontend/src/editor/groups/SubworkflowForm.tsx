/**
 * The parameters of a `flow.subworkflow` node: the workflow picked from the user's workflows (with
 * a link to open it), its version — published, the draft, or a published number — and the other
 * params through the generated form.
 */
import { useEffect, useMemo, useState } from "react";
import { api } from "../../api/client";
import type { NodeTypeEntry, Version, Workflow } from "../../api/types";
import { urlOf } from "../../app/router";
import { isRecord } from "../../document/types";
import { SchemaForm, type FormContext } from "../../forms/SchemaForm";
import type { JsonSchema } from "../../forms/schema";
import { versionChoice, versionValue } from "./versions";
import "../../styles/composition.css";

const PICKED = new Set(["workflow", "version"]);

let workflowsRequest: Promise<Workflow[]> | null = null;

/** The user's workflows, asked for once per page (a picker opened again does not ask again). */
function loadWorkflows(): Promise<Workflow[]> {
  workflowsRequest ??= api.workflows.list(500).then((page) => page.results, (error) => {
    workflowsRequest = null;
    throw error;
  });
  return workflowsRequest;
}

export function SubworkflowForm({ entry, params, onChange, context, workflowId }: {
  entry: NodeTypeEntry;
  params: Record<string, unknown>;
  onChange: (name: string, value: unknown) => void;
  context: FormContext;
  /** The workflow being edited (a workflow may call itself, up to the depth limit). */
  workflowId: string;
}) {
  const [workflows, setWorkflows] = useState<Workflow[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [versions, setVersions] = useState<Version[]>([]);
  const picked = typeof params.workflow === "string" ? params.workflow : "";
  useEffect(() => {
    let cancelled = false;
    loadWorkflows().then((list) => !cancelled && setWorkflows(list), (reason: Error) => !cancelled && setError(reason.message));
    return () => {
      cancelled = true;
    };
  }, []);
  useEffect(() => {
    setVersions([]);
    if (!picked) return;
    let cancelled = false;
    api.workflows.versions(picked, 100).then((page) => !cancelled && setVersions(page.results), () => undefined);
    return () => {
      cancelled = true;
    };
  }, [picked]);
  const rest = useMemo(() => {
    const properties = isRecord(entry.params_schema.properties) ? entry.params_schema.properties : {};
    return { ...entry.params_schema, properties: Object.fromEntries(Object.entries(properties).filter(([name]) => !PICKED.has(name))) } as JsonSchema;
  }, [entry]);
  const known = workflows?.find((workflow) => workflow.id === picked);
  const workflowMessages = context.messagesAt("workflow", false);
  const versionMessages = context.messagesAt("version", false);
  return (
    <div className="nf-form" data-form="subworkflow">
      <div className={`nf-field ${workflowMessages?.length ? "nf-field--invalid" : ""}`}>
        <label className="nf-field-label is-required" htmlFor="nf-subworkflow">Workflow</label>
        <select id="nf-subworkflow" className="nf-input" value={picked} aria-label="Workflow to call"
          onChange={(event) => onChange("workflow", event.target.value || undefined)}>
          <option value="">{workflows ? "Choose a workflow…" : "Loading your workflows…"}</option>
          {picked && workflows && !known && <option value={picked}>{picked} (not one of yours)</option>}
          {(workflows ?? []).map((workflow) => (
            <option key={String(workflow.id)} value={String(workflow.id)}>{workflow.name || "Untitled workflow"}{workflow.id === workflowId ? " (this workflow)" : ""}</option>
          ))}
        </select>
        {picked && (
          <a className="nf-subworkflow-link" href={urlOf({ name: "editor", workflowId: picked })} target="_blank" rel="noreferrer" data-testid="subworkflow-link">
            Open {known?.name ? `“${known.name}”` : "the workflow"} ↗
          </a>
        )}
        {error && <div className="nf-field-error" role="alert">Could not list your workflows: {error}</div>}
        {workflowMessages?.map((message) => <div key={message} className="nf-field-error" role="alert">{message}</div>)}
      </div>
      <div className={`nf-field ${versionMessages?.length ? "nf-field--invalid" : ""}`}>
        <label className="nf-field-label" htmlFor="nf-subworkflow-version">Version</label>
        <select id="nf-subworkflow-version" className="nf-input" value={versionChoice(params.version)} aria-label="Version to call"
          onChange={(event) => onChange("version", event.target.value === "published" ? undefined : versionValue(event.target.value))}>
          <option value="published">Published (whatever is live when it runs)</option>
          <option value="draft">Draft (the saved draft)</option>
          {typeof params.version === "number" && !versions.some((version) => version.number === params.version) && (
            <option value={String(params.version)}>Version {params.version}</option>
          )}
          {versions.map((version) => <option key={version.number} value={String(version.number)}>Version {version.number}{version.published ? " (published now)" : ""}</option>)}
        </select>
        {known && !known.published_version && versionChoice(params.version) === "published" && (
          <div className="nf-field-help">This workflow is not published: calls with “Published” fail until it is.</div>
        )}
        {versionMessages?.map((message) => <div key={message} className="nf-field-error" role="alert">{message}</div>)}
      </div>
      <SchemaForm schema={rest} value={params} defaults={entry.defaults} onChange={onChange} context={context} />
    </div>
  );
}
