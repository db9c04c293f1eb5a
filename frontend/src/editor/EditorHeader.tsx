/** The editor's top bar: name, save state, undo/redo, delete, export, save, publish. */
import { useState } from "react";
import { Link } from "../app/router";
import { UserMenu, Brand } from "../app/TopBar";
import { withKey } from "../document/edit";
import { downloadJson } from "../workflows/files";
import { Button, IconButton } from "../ui/Button";
import { Icon } from "../ui/Icon";
import { clockTime } from "../ui/format";
import { confirmDialog } from "../ui/overlays";
import { useEditorContext, useEditorState } from "./context";
import { RunDialog } from "./RunDialog";
import { runnablePart } from "../document/reachable";
import { nodeLabel } from "../document/labels";
import { ListenButton } from "./ListenButton";

function SaveState() {
  const { store } = useEditorContext();
  const saving = useEditorState((state) => state.saving);
  const saveError = useEditorState((state) => state.saveError);
  const savedAt = useEditorState((state) => state.savedAt);
  useEditorState((state) => state.history.present);
  const dirty = store.isDirty();
  if (saving) return <span className="nf-save-state" data-state="saving"><span className="nf-spinner" aria-hidden="true" /> Saving…</span>;
  if (dirty && saveError) return <span className="nf-save-state is-error" data-state="error" title={saveError}><Icon name="alert" size={14} /> Not saved</span>;
  if (dirty) return <span className="nf-save-state is-dirty" data-state="dirty"><span className="nf-dot" aria-hidden="true" /> Unsaved changes</span>;
  return <span className="nf-save-state" data-state="saved"><Icon name="check" size={14} /> {savedAt ? `Saved at ${clockTime(savedAt)}` : "Saved"}</span>;
}

export function EditorHeader() {
  const { store, actions, readOnly, catalog } = useEditorContext();
  const doc = useEditorState((state) => state.history.present);
  const workflow = useEditorState((state) => state.workflow);
  const problems = useEditorState((state) => state.problems);
  const problemsOf = useEditorState((state) => state.problemsOf);
  const publishing = useEditorState((state) => state.publishing);
  const selected = useEditorState((state) => state.selectedNodes.size + state.selectedEdges.size);
  useEditorState((state) => state.history);
  useEditorState((state) => state.publishedRevision);
  const published = workflow.published_version;
  const checking = problemsOf !== doc;
  const publishBlocked = problems.length > 0;
  const upToDate = Boolean(published) && !store.hasUnpublishedChanges();
  const [running, setRunning] = useState(false);
  // Problems only in nodes no trigger leads to do not block a run: it runs the connected part.
  const part = runnablePart(doc, problems, (type) => Boolean(catalog.get(type)?.trigger));
  const leftOutNames = part.leftOut.map((id) => nodeLabel(doc, id)).join(", ");

  const unpublish = async () => {
    const sure = await confirmDialog({
      title: "Unpublish this workflow?",
      message: "Its schedules stop and its webhooks answer 404 until you publish again. Versions are kept.",
      confirmLabel: "Unpublish",
      danger: true,
    });
    if (sure) await store.unpublish();
  };

  return (
    <header className="nf-topbar nf-editor-bar">
      <Brand />
      <Link to={{ name: "workflows" }} className="nf-back" aria-label="Back to workflows"><Icon name="back" /> Workflows</Link>
      <span className="nf-crumb-sep">/</span>
      <input className="nf-name-input" aria-label="Workflow name" value={doc.name ?? ""} placeholder="Untitled workflow" maxLength={200} readOnly={readOnly}
        title={readOnly ? "Go back to the draft to rename the workflow" : undefined}
        onChange={(event) => store.edit((current) => withKey(current, "name", event.target.value), "workflow:name")} />
      {readOnly ? (
        // The execution view edits nothing: the toolbar's place stays, empty, so the rest keeps its place.
        <div className="nf-toolbar" />
      ) : (
        <>
          <SaveState />
          <div className="nf-toolbar" role="toolbar" aria-label="Editing">
            <IconButton icon="undo" label="Undo (Ctrl/⌘ Z)" disabled={!store.canUndo()} onClick={() => store.undo()} />
            <IconButton icon="redo" label="Redo (Ctrl/⌘ Shift Z)" disabled={!store.canRedo()} onClick={() => store.redo()} />
            <IconButton icon="trash" label="Delete selection (Delete)" disabled={selected === 0} onClick={() => actions.deleteSelection()} />
            <span className="nf-toolbar-sep" />
            <IconButton icon="download" label="Export JSON" onClick={() => downloadJson(store.doc, store.doc.name || workflow.name || "workflow")} />
            <Button icon="save" onClick={() => void store.save()} disabled={!store.isDirty()} title="Save (Ctrl/⌘ S)">Save</Button>
          </div>
        </>
      )}
      <Link to={{ name: "executions", workflowId: String(workflow.id) }} className="nf-button nf-button--ghost" title="Runs of this workflow"><Icon name="clock" /> Executions</Link>
      <Button icon="play" onClick={() => setRunning(true)} disabled={!part.runnable}
        title={!part.runnable ? `Fix ${problems.length} problem(s) to run` : part.leftOut.length ? `Runs the part connected to the trigger; leaves out ${leftOutNames} (not connected, with problems)` : "Run the draft and watch it"}>Run</Button>
      {running && <RunDialog onClose={() => setRunning(false)} />}
      <ListenButton />
      <div className="nf-publish">
        {published ? (
          <button type="button" className="nf-pill nf-pill--green nf-pill-button" onClick={() => void unpublish()} title="Published: triggers run this version. Click to unpublish." disabled={publishing}>
            Published · v{published}
          </button>
        ) : (
          <span className="nf-pill" title="Triggers do not run drafts">Not published</span>
        )}
        {published ? (
          <Button onClick={() => void unpublish()} disabled={publishing}>Unpublish</Button>
        ) : null}
        <Button variant="primary" icon="rocket" disabled={publishBlocked || publishing || upToDate} onClick={() => void store.publish()}
          title={publishBlocked ? `Fix ${problems.length} problem(s) to publish` : upToDate ? `No changes since version ${published}` : checking ? "Checking…" : "Publish the draft as a new version"}>
          {publishing ? "Publishing…" : published ? "Publish changes" : "Publish"}
        </Button>
      </div>
      <UserMenu />
    </header>
  );
}
