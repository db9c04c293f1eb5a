/** The workflow editor page: loads the workflow and the catalog, then the palette, canvas and side panel. */
import { ReactFlowProvider, useReactFlow } from "@xyflow/react";
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState, useSyncExternalStore, type ReactNode } from "react";
import { ApiError, api } from "../api/client";
import type { ExecutionDefinition, NodeTypeEntry, WorkflowDocument } from "../api/types";
import { Link, navigate, setNavigationGuard } from "../app/router";
import { TopBar } from "../app/TopBar";
import { Catalog } from "../catalog/catalog";
import { parseClipboard, pasteNodes } from "../document/edit";
import { copySelection, pasteInto, removeSelection } from "../document/frames";
import { addNodeIn, BODY_START_POSITION, graphAt, targetScope } from "../document/groups";
import { freePosition } from "../document/graph";
import { isRecord } from "../document/types";
import type { JsonSchema } from "../forms/schema";
import { Button } from "../ui/Button";
import { Icon } from "../ui/Icon";
import { choiceDialog, toast } from "../ui/overlays";
import { Canvas } from "./Canvas";
import { EditorContext, useEditorContext, useEditorState, type EditorActions } from "./context";
import { EditorHeader } from "./EditorHeader";
import { Palette } from "./Palette";
import { ImportReportPanel } from "./ImportReport";
import { ProblemsBar } from "./ProblemsBar";
import { ConflictDialog } from "./ConflictDialog";
import { RunSamplesLoader } from "../executions/samples";
import { SidePanel } from "./SidePanel";
import { EditorStore } from "./store";
import { RunBar } from "./RunBar";
import { RunInspector } from "./RunInspector";
import { carried, runNotes, runStates } from "../executions/live";
import type { DocEdge } from "../document/types";
import { useExecution } from "../executions/useExecution";
import { ranRevisionLabel, sameContent } from "../executions/revision";
import { leftOutOfRun } from "../document/reachable";
import { nodeLabel } from "../document/labels";
import { Breadcrumb, parentOf, useNodeFromHash } from "../executions/children/Breadcrumb";
import { ChildProgressContext } from "../executions/children/progress";
import { useChildProgress } from "../executions/children/useChildProgress";
import { readCollapsed } from "./groups/frameState";

let catalogRequest: Promise<[NodeTypeEntry[], JsonSchema]> | null = null;

/** The catalog and the document schema, fetched once per page load. */
function loadCatalog(): Promise<[NodeTypeEntry[], JsonSchema]> {
  catalogRequest ??= Promise.all([api.nodeTypes(), api.documentSchema()]).catch((error) => {
    catalogRequest = null;
    throw error;
  });
  return catalogRequest;
}

const editorApi = {
  save: api.workflows.save,
  validate: api.workflows.validate,
  publish: api.workflows.publish,
  unpublish: api.workflows.unpublish,
  get: api.workflows.get,
};

interface Loaded {
  store: EditorStore;
  catalog: Catalog;
  documentSchema: JsonSchema;
}

export function EditorPage({ workflowId, executionId }: { workflowId: string; executionId?: string }) {
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [error, setError] = useState<{ status: number; message: string } | null>(null);

  useEffect(() => {
    let store: EditorStore | null = null;
    let cancelled = false;
    performance.mark("nodeflow:editor-load");
    // The execution view needs the document that ran as well: asked for at once, not after the workflow.
    if (executionId) void ranDefinition(executionId);
    Promise.all([api.workflows.get(workflowId), loadCatalog()])
      .then(([workflow, [entries, documentSchema]]) => {
        if (cancelled) return;
        store = new EditorStore(workflow, editorApi);
        if (workflow.published_version) {
          const opened = store;
          api.workflows
            .versions(workflowId, 1)
            .then((page) => {
              const live = page.results.find((version) => version.number === workflow.published_version);
              if (live) opened.setPublishedRevision(live.revision);
              if (live) return api.workflows.version(workflowId, live.number).then((detail) => opened.setPublishedDefinition(detail.definition));
            })
            .catch(() => undefined);
        }
        setLoaded({ store, catalog: new Catalog(entries), documentSchema });
      })
      .catch((reason) => {
        if (!cancelled) setError({ status: reason instanceof ApiError ? reason.status : 0, message: reason instanceof Error ? reason.message : String(reason) });
      });
    return () => {
      cancelled = true;
      store?.dispose();
    };
    // executionId: only which definition to ask for early; the editor follows it without reloading.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [workflowId]);

  if (error) {
    return (
      <div className="nf-page">
        <TopBar />
        <main className="nf-empty">
          <h1>{error.status === 404 ? "Workflow not found" : "The workflow could not be opened"}</h1>
          <p>{error.status === 404 ? "It was deleted, or it belongs to someone else." : error.message}</p>
          <Button variant="primary" onClick={() => void navigate({ name: "workflows" })}>Back to your workflows</Button>
        </main>
      </div>
    );
  }
  if (!loaded) {
    return (
      <div className="nf-page">
        <TopBar />
        <main className="nf-loading" aria-busy="true"><span className="nf-spinner" /> Opening the workflow…</main>
      </div>
    );
  }
  return (
    <ReactFlowProvider>
      <Editor {...loaded} executionId={executionId} />
    </ReactFlowProvider>
  );
}

/** Whether keyboard input goes to a text field (which then keeps its own undo, delete, copy). */
function typingIn(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName);
}

function Editor({ store, catalog, documentSchema, executionId }: Loaded & { executionId?: string }) {
  const flow = useReactFlow();
  const readOnly = Boolean(executionId);
  const live = useExecution(executionId);
  const ran = useRanDefinition(executionId);
  const states = useMemo(() => (executionId ? runStates(live) : undefined), [executionId, live]);
  const notes = useMemo(() => (executionId ? runNotes(live) : undefined), [executionId, live]);
  const edgeCarried = useMemo(() => (executionId ? (edge: DocEdge, port: string) => carried(live, edge.from, port, edge.to) : undefined), [executionId, live]);
  // The execution view draws the document that ran (the draft while it is loading or could not be had).
  const drawn = executionId ? ran?.value?.definition : undefined;
  const drawnRef = useRef<WorkflowDocument | undefined>(drawn);
  drawnRef.current = drawn;
  // Issue 18: a loop's or a group's children counted live, and a parent node named by the URL selected.
  const childProgress = useChildProgress(executionId, live, drawn);
  useNodeFromHash(store, executionId);

  // The draft's problems matter while editing it; the execution view draws another document.
  useEffect(() => {
    if (!readOnly && store.getState().problemsOf === null) store.scheduleValidation(0);
  }, [store, readOnly]);

  const actions = useMemo<EditorActions>(() => {
    const visibleCentre = (): [number, number] => {
      const pane = document.querySelector(".nf-canvas")?.getBoundingClientRect();
      if (!pane) return [100, 100];
      const point = flow.screenToFlowPosition({ x: pane.left + pane.width / 2, y: pane.top + pane.height / 2 });
      return [point.x - 120, point.y - 30];
    };
    return {
      addNode(type, position, into) {
        const entry = catalog.latest(type);
        if (!entry || readOnly) return;
        let id = "";
        // Without a place (a click in the palette): into the selected open frame, or beside the selected inner node.
        const scope = into ?? (position ? [] : targetScope(store.doc, store.getState().selectedNodes, readCollapsed(String(store.getState().workflow.id))));
        const inBody: [number, number] = [BODY_START_POSITION[0], BODY_START_POSITION[1] + 110];
        const at = position ?? freePosition(graphAt(store.doc, scope) ?? store.doc, scope.length ? inBody : visibleCentre());
        store.edit((doc) => {
          // Into a body when `scope` names one; a group or a loop gets a body with its start node.
          const added = addNodeIn(doc, scope, entry, at, catalog.latest("trigger.group"));
          id = added.id;
          return added.doc;
        });
        if (id) store.select([id]);
      },
      deleteSelection() {
        const { selectedNodes, selectedEdges } = store.getState();
        if (readOnly || (!selectedNodes.size && !selectedEdges.size)) return;
        store.edit((doc) => removeSelection(doc, selectedNodes, selectedEdges));
        store.select([], []);
      },
      duplicateSelection() {
        const ids = store.getState().selectedNodes;
        if (readOnly || !ids.size) return;
        let pasted: string[] = [];
        store.edit((doc) => {
          // Nodes of one body are duplicated in that body (a selection across bodies is not).
          const copied = copySelection(doc, ids);
          if (!copied) return doc;
          const result = pasteInto(doc, copied.scope, copied.payload, [40, 40]);
          pasted = result.ids;
          return result.doc;
        });
        if (pasted.length) store.select(pasted);
      },
      focusNode(id) {
        store.select([id]);
        void flow.fitView({ nodes: [{ id }], duration: 300, maxZoom: 1.2 });
      },
    };
  }, [store, catalog, flow, readOnly]);

  // Keyboard: save, undo/redo, delete, select all, duplicate, deselect.
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const mod = event.ctrlKey || event.metaKey;
      const key = event.key.toLowerCase();
      if (mod && key === "s") {
        event.preventDefault();
        void store.save();
        return;
      }
      if (typingIn(event.target) || document.querySelector(".nf-modal")) return;
      if (readOnly) {
        if (event.key === "Escape") store.select([], []);
        return;
      }
      if (mod && key === "z") {
        event.preventDefault();
        if (event.shiftKey) store.redo();
        else store.undo();
      } else if (mod && key === "y") {
        event.preventDefault();
        store.redo();
      } else if (mod && key === "a") {
        event.preventDefault();
        store.select(store.doc.nodes.filter((node) => isRecord(node) && typeof node.id === "string").map((node) => node.id));
      } else if (mod && key === "d") {
        event.preventDefault();
        actions.duplicateSelection();
      } else if (!mod && (event.key === "Delete" || event.key === "Backspace")) {
        event.preventDefault();
        actions.deleteSelection();
      } else if (event.key === "Escape") {
        store.select([], []);
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [store, actions, readOnly]);

  // Copy, cut and paste through the system clipboard (also between tabs and workflows).
  useEffect(() => {
    const onCopy = (event: ClipboardEvent, cut: boolean) => {
      if (typingIn(event.target) || window.getSelection()?.toString()) return;
      const ids = store.getState().selectedNodes;
      if (!ids.size || !event.clipboardData || (cut && readOnly)) return;
      event.preventDefault();
      const copied = copySelection(drawnRef.current ?? store.doc, ids);
      if (!copied) return;
      event.clipboardData.setData("text/plain", JSON.stringify(copied.payload, null, 2));
      if (cut) actions.deleteSelection();
      else toast(`Copied ${ids.size} node${ids.size === 1 ? "" : "s"}.`);
    };
    const copy = (event: ClipboardEvent) => onCopy(event, false);
    const cut = (event: ClipboardEvent) => onCopy(event, true);
    const paste = (event: ClipboardEvent) => {
      if (typingIn(event.target) || readOnly) return;
      const payload = parseClipboard(event.clipboardData?.getData("text/plain") ?? "");
      if (!payload || !payload.nodes.length) return;
      event.preventDefault();
      let ids: string[] = [];
      store.edit((doc) => {
        const result = pasteNodes(doc, payload, [40, 40]);
        ids = result.ids;
        return result.doc;
      });
      store.select(ids);
    };
    document.addEventListener("copy", copy);
    document.addEventListener("cut", cut);
    document.addEventListener("paste", paste);
    return () => {
      document.removeEventListener("copy", copy);
      document.removeEventListener("cut", cut);
      document.removeEventListener("paste", paste);
    };
  }, [store, actions, readOnly]);

  // Unsaved changes: the browser asks before leaving the page; in-app navigation saves first.
  useEffect(() => {
    const beforeUnload = (event: BeforeUnloadEvent) => {
      if (!store.isDirty()) return;
      void store.save();
      event.preventDefault();
      event.returnValue = "";
    };
    window.addEventListener("beforeunload", beforeUnload);
    setNavigationGuard(async () => {
      if (!store.isDirty() || (await store.save())) return true;
      const choice = await choiceDialog({
        title: "Leave without saving?",
        message: "Your last changes could not be saved.",
        choices: [{ value: "stay", label: "Stay", variant: "primary" }, { value: "leave", label: "Leave without saving", variant: "danger" }],
      });
      return choice === "leave";
    });
    return () => {
      window.removeEventListener("beforeunload", beforeUnload);
      setNavigationGuard(null);
    };
  }, [store]);

  // Notices from the store become toasts; the title shows unsaved work.
  useEffect(
    () =>
      store.subscribe(() => {
        const { notice } = store.getState();
        if (notice) {
          store.dismissNotice();
          toast(notice.text, notice.kind);
        }
        document.title = `${store.isDirty() ? "• " : ""}${store.doc.name || "Untitled workflow"} · NodeFlow`;
      }),
    [store],
  );

  const onInteractive = useCallback(() => {
    performance.mark("nodeflow:editor-interactive");
    document.body.dataset.editorReady = "true";
  }, []);

  const context = useMemo(() => ({ store, catalog, actions, readOnly }), [store, catalog, actions, readOnly]);
  const workflowId = store.getState().workflow.id as string;
  return (
    <EditorContext.Provider value={context}>
      <div className="nf-editor">
        <EditorHeader />
        <div className={`nf-editor-body ${readOnly ? "nf-editor-body--run" : ""}`}>
          {!readOnly && <Palette />}
          <div className="nf-canvas-area">
            {executionId ? (
              <>
                <RunTop>
                  <Breadcrumb execution={live.execution} />
                  <RunBar workflowId={workflowId} live={live} />
                  {/* A child run's document is its body (or the called workflow's), not this draft. */}
                  {ran && !parentOf(live.execution) && <RanRevisionNotice workflowId={workflowId} ran={ran} />}
                </RunTop>
                {/* Drawn once what ran and its states are both known: one draw of every node, not two. */}
                {ran && (live.execution || live.error) ? (
                  <ChildProgressContext.Provider value={childProgress}>
                    <Canvas key={executionId} document={drawn} onInteractive={onInteractive} runStates={states} runNotes={notes} edgeCarried={edgeCarried} />
                  </ChildProgressContext.Provider>
                ) : (
                  <div className="nf-loading" aria-busy="true"><span className="nf-spinner" /> Loading what ran…</div>
                )}
              </>
            ) : (
              <>
                <Canvas onInteractive={onInteractive} />
                <ImportReportPanel workflowId={workflowId} />
                <ProblemsBar />
                <EmptyHint />
                <ConflictDialog />
                <RunSamplesLoader workflowId={workflowId} />
              </>
            )}
          </div>
          {executionId ? (
            <ChildProgressContext.Provider value={childProgress}>
              <RunInspector key={executionId} executionId={executionId} live={live} />
            </ChildProgressContext.Provider>
          ) : <SidePanel documentSchema={documentSchema} />}
        </div>
      </div>
    </EditorContext.Provider>
  );
}

type RanDefinition = { executionId: string; value?: ExecutionDefinition; error?: string };

let definitionRequest: { executionId: string; answer: Promise<ExecutionDefinition> } | null = null;

/** The document an execution ran, asked for once per execution opened (an execution's document never changes). */
function ranDefinition(executionId: string): Promise<ExecutionDefinition> {
  if (definitionRequest?.executionId !== executionId) {
    const answer = api.executions.definition(executionId);
    definitionRequest = { executionId, answer };
    answer.catch(() => {
      if (definitionRequest?.answer === answer) definitionRequest = null;
    });
  }
  return definitionRequest.answer;
}

/** The document an execution ran (null while it loads). */
function useRanDefinition(executionId: string | undefined): RanDefinition | null {
  const [ran, setRan] = useState<RanDefinition | null>(null);
  useEffect(() => {
    if (!executionId) return;
    let cancelled = false;
    ranDefinition(executionId).then(
      (value) => !cancelled && setRan({ executionId, value }),
      (reason) => !cancelled && setRan({ executionId, error: reason instanceof Error ? reason.message : String(reason) }),
    );
    return () => {
      cancelled = true;
    };
  }, [executionId]);
  return ran && ran.executionId === executionId ? ran : null;
}

/**
 * The run bar and the notes under it, at the top of the canvas. Toasts go just below it
 * (`--nf-toast-top`), so that a "Copied …" never covers the run's controls.
 */
function RunTop({ children }: { children: ReactNode }) {
  const box = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    const element = box.current;
    if (!element) return;
    const root = document.documentElement;
    const place = () => root.style.setProperty("--nf-toast-top", `${Math.round(element.getBoundingClientRect().bottom + 10)}px`);
    place();
    const observer = new ResizeObserver(place);
    observer.observe(element);
    return () => {
      observer.disconnect();
      root.style.removeProperty("--nf-toast-top");
    };
  }, []);
  return <div className="nf-run-top" ref={box}>{children}</div>;
}

/** Says so when the run used another document than the draft now, and leads back to the draft. */
function RanRevisionNotice({ workflowId, ran }: { workflowId: string; ran: RanDefinition }) {
  const draft = useEditorState((state) => state.history.present);
  const same = useMemo(() => (ran.value ? sameContent(ran.value.definition, draft) : true), [ran.value, draft]);
  // A run with problems outside the connected part ran the draft without those nodes: say so, not "another revision".
  const leftOut = useMemo(() => (ran.value && !same ? leftOutOfRun(ran.value.definition, draft, sameContent) : null), [ran.value, draft, same]);
  if (ran.error) {
    return (
      <div className="nf-run-notice nf-run-notice--error" role="alert">
        <Icon name="alert" size={14} /> The document this run used could not be loaded ({ran.error}); the canvas shows the current draft.
      </div>
    );
  }
  if (same || !ran.value) return null;
  if (leftOut) {
    return (
      <div className="nf-run-notice" role="note" aria-label="Nodes left out" data-testid="left-out">
        <Icon name="alert" size={14} />
        <span>This run left out {leftOut.map((id) => nodeLabel(draft, id)).join(", ")}: not connected to the trigger, with problems.</span>
      </div>
    );
  }
  return (
    <div className="nf-run-notice" role="note" aria-label="Revision that ran" data-testid="ran-revision">
      <Icon name="clock" size={14} />
      <span>This run used {ranRevisionLabel(ran.value)}; the draft has changed since. The canvas shows what ran, read-only.</span>
      <Link to={{ name: "editor", workflowId }} className="nf-button nf-button--small nf-button--secondary">Back to the draft</Link>
    </div>
  );
}

function EmptyHint() {
  const { store } = useEditorContext();
  const empty = useSyncEmpty(store);
  if (!empty) return null;
  return (
    <div className="nf-canvas-hint" aria-hidden="true">
      <Icon name="hand" size={28} />
      <p>Drag a trigger from the left to start.<br />Then add nodes and connect their ports.</p>
    </div>
  );
}

function useSyncEmpty(store: EditorStore): boolean {
  return useSyncExternalStore(store.subscribe, () => store.doc.nodes.length === 0);
}
