/** The workflows list: search, create, import, rename, duplicate, export, delete. */
import { useCallback, useEffect, useMemo, useRef, useState, type KeyboardEvent } from "react";
import { ApiError, api, lastRunByWorkflow } from "../api/client";
import type { Execution, Workflow, WorkflowDocument } from "../api/types";
import { Link, navigate } from "../app/router";
import { TopBar } from "../app/TopBar";
import { Button, IconButton } from "../ui/Button";
import { Icon } from "../ui/Icon";
import { confirmDialog, promptDialog, toast } from "../ui/overlays";
import { dateTime, timeAgo } from "../ui/format";
import { downloadJson, readJsonFile } from "./files";
import { FORMAT_TITLES, detectFormat, keepReport } from "./imports";

function errorText(error: unknown): string {
  return error instanceof ApiError || error instanceof Error ? error.message : String(error);
}

export function WorkflowListPage() {
  const [workflows, setWorkflows] = useState<Workflow[] | null>(null);
  const [lastRuns, setLastRuns] = useState<Map<string, Execution>>(new Map());
  const [loadError, setLoadError] = useState<string | null>(null);
  const [search, setSearch] = useState("");
  const [renaming, setRenaming] = useState<string | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);

  const load = useCallback(async () => {
    try {
      const [page, runs] = await Promise.all([
        api.workflows.list(),
        // Last runs: the newest executions, newest first; a failure here only hides the column's data.
        api.executions.list({ limit: 200 }).catch(() => null),
      ]);
      setWorkflows(page.results);
      if (runs) setLastRuns(lastRunByWorkflow(runs.results));
      setLoadError(null);
    } catch (error) {
      setLoadError(errorText(error));
    }
  }, []);

  useEffect(() => {
    document.title = "Workflows · NodeFlow";
    void load();
  }, [load]);

  const shown = useMemo(() => {
    const words = search.toLowerCase().split(/\s+/).filter(Boolean);
    return (workflows ?? []).filter((workflow) => words.every((word) => (workflow.name ?? "").toLowerCase().includes(word)));
  }, [workflows, search]);

  const create = async () => {
    const name = await promptDialog({ title: "New workflow", label: "Name", initial: "My workflow", confirmLabel: "Create" });
    if (!name) return;
    try {
      const workflow = await api.workflows.create({ name });
      void navigate({ name: "editor", workflowId: workflow.id });
    } catch (error) {
      toast(`Not created: ${errorText(error)}`, "error");
    }
  };

  const importFile = async (file: File) => {
    try {
      const document = await readJsonFile(file);
      // A file that is none of the formats goes as nodeflow: the server's answer says what is wrong with it.
      const format = detectFormat(document) ?? "nodeflow";
      const workflow = await api.workflows.importDocument(document, format);
      if (format !== "nodeflow") keepReport(workflow.id, { format, report: workflow.import_report });
      const from = format === "nodeflow" ? "" : ` from ${FORMAT_TITLES[format]}`;
      toast(`Imported “${workflow.name}”${from}${workflow.validation.valid ? "" : ` with ${workflow.validation.errors.length} problem(s) to fix`}.`);
      void navigate({ name: "editor", workflowId: workflow.id });
    } catch (error) {
      toast(`Not imported: ${errorText(error)}`, "error");
    }
  };

  const rename = async (workflow: Workflow, name: string) => {
    setRenaming(null);
    if (!name.trim() || name === workflow.name) return;
    try {
      const saved = await api.workflows.rename(workflow.id, name.trim());
      setWorkflows((list) => list && list.map((item) => (item.id === workflow.id ? { ...item, ...saved } : item)));
    } catch (error) {
      toast(`Not renamed: ${errorText(error)}`, "error");
    }
  };

  const duplicate = async (workflow: Workflow) => {
    try {
      const source = workflow.definition ?? (await api.workflows.get(workflow.id)).definition;
      const copy = await api.workflows.create({ name: `${workflow.name} (copy)`, definition: source as WorkflowDocument });
      setWorkflows((list) => list && [copy, ...list]);
      toast(`Duplicated as “${copy.name}”.`);
    } catch (error) {
      toast(`Not duplicated: ${errorText(error)}`, "error");
    }
  };

  const exportWorkflow = async (workflow: Workflow) => {
    try {
      downloadJson(await api.workflows.exportDocument(workflow.id), workflow.name ?? "workflow");
    } catch (error) {
      toast(`Not exported: ${errorText(error)}`, "error");
    }
  };

  const remove = async (workflow: Workflow) => {
    const sure = await confirmDialog({
      title: `Delete “${workflow.name}”?`,
      message: "Its published versions and all its executions are deleted too. This cannot be undone.",
      confirmLabel: "Delete workflow",
      danger: true,
    });
    if (!sure) return;
    try {
      await api.workflows.remove(workflow.id);
      setWorkflows((list) => list && list.filter((item) => item.id !== workflow.id));
      toast(`Deleted “${workflow.name}”.`);
    } catch (error) {
      toast(`Not deleted: ${errorText(error)}`, "error");
    }
  };

  return (
    <div className="nf-page">
      <TopBar />
      <main className="nf-list-page">
        <div className="nf-list-head">
          <div>
            <h1>Workflows</h1>
            <p className="nf-muted">{workflows ? `${workflows.length} workflow${workflows.length === 1 ? "" : "s"}` : "Loading…"}</p>
          </div>
          <div className="nf-list-tools">
            <label className="nf-search">
              <Icon name="search" />
              <input type="search" placeholder="Search workflows" aria-label="Search workflows" value={search} onChange={(event) => setSearch(event.target.value)} />
            </label>
            <Button icon="upload" title="Import a NodeFlow, n8n or stageflow file" onClick={() => fileInput.current?.click()}>Import</Button>
            <input ref={fileInput} type="file" accept=".json,application/json" hidden aria-label="Import a workflow file"
              onChange={(event) => {
                const file = event.target.files?.[0];
                event.target.value = "";
                if (file) void importFile(file);
              }} />
            <Button variant="primary" icon="plus" onClick={create}>New workflow</Button>
          </div>
        </div>

        {loadError && (
          <div className="nf-banner nf-banner--error" role="alert">
            <Icon name="alert" /> Could not load your workflows: {loadError} <Button size="small" onClick={load}>Retry</Button>
          </div>
        )}

        {workflows && workflows.length === 0 && (
          <div className="nf-empty-card">
            <div className="nf-empty-art" aria-hidden="true"><Icon name="flow" size={40} /></div>
            <h2>Build your first workflow</h2>
            <p className="nf-muted">Start from a trigger — by hand, on a schedule or from a webhook — and connect HTTP calls, Python code and conditions.</p>
            <Button variant="primary" icon="plus" onClick={create}>New workflow</Button>
          </div>
        )}

        {workflows && workflows.length > 0 && (
          <table className="nf-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Status</th>
                <th>Last run</th>
                <th>Updated</th>
                <th aria-label="Actions" />
              </tr>
            </thead>
            <tbody>
              {shown.map((workflow) => {
                const run = lastRuns.get(workflow.id);
                return (
                  <tr key={workflow.id} data-workflow-id={workflow.id}>
                    <td className="nf-table-name">
                      {renaming === workflow.id ? (
                        <input className="nf-input" aria-label="Workflow name" defaultValue={workflow.name} autoFocus maxLength={200}
                          onBlur={(event) => void rename(workflow, event.target.value)}
                          onKeyDown={(event: KeyboardEvent<HTMLInputElement>) => {
                            if (event.key === "Enter") event.currentTarget.blur();
                            if (event.key === "Escape") setRenaming(null);
                          }} />
                      ) : (
                        <Link to={{ name: "editor", workflowId: workflow.id }}>{workflow.name || "Untitled workflow"}</Link>
                      )}
                      <span className="nf-muted nf-small">{nodeCount(workflow)}</span>
                    </td>
                    <td>
                      {workflow.published_version ? (
                        <span className="nf-pill nf-pill--green">Published · v{workflow.published_version}</span>
                      ) : (
                        <span className="nf-pill">Draft</span>
                      )}
                    </td>
                    <td>
                      {run ? (
                        <span className={`nf-run nf-run--${run.status}`} title={dateTime(run.created_at)}>
                          <span className="nf-dot" aria-hidden="true" />
                          <span className="nf-run-status">{run.status?.replace("_", " ")}</span> · {timeAgo(run.created_at)}
                        </span>
                      ) : (
                        <span className="nf-muted">Never run</span>
                      )}
                    </td>
                    <td className="nf-muted" title={dateTime(workflow.updated_at)}>{timeAgo(workflow.updated_at)}</td>
                    <td className="nf-table-actions">
                      <IconButton icon="edit" label="Rename" onClick={() => setRenaming(workflow.id)} />
                      <IconButton icon="copy" label="Duplicate" onClick={() => void duplicate(workflow)} />
                      <IconButton icon="download" label="Export" onClick={() => void exportWorkflow(workflow)} />
                      <IconButton icon="trash" label="Delete" className="nf-danger-hover" onClick={() => void remove(workflow)} />
                    </td>
                  </tr>
                );
              })}
              {shown.length === 0 && (
                <tr>
                  <td colSpan={5} className="nf-muted nf-center">No workflow matches “{search}”.</td>
                </tr>
              )}
            </tbody>
          </table>
        )}
      </main>
    </div>
  );
}

function nodeCount(workflow: Workflow): string {
  const nodes = workflow.definition?.nodes;
  if (!Array.isArray(nodes)) return "";
  return `${nodes.length} node${nodes.length === 1 ? "" : "s"}`;
}
