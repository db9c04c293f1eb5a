/**
 * The canvas: draws the document through `documentToCanvas` and turns what people do on
 * it (drag, connect, select, drop from the palette) into document edits in the store.
 */
import {
  Background,
  BackgroundVariant,
  ControlButton,
  Controls,
  MiniMap,
  ReactFlow,
  applyNodeChanges,
  useNodesInitialized,
  useReactFlow,
  type Connection,
  type EdgeChange,
  type FitViewOptions,
  type IsValidConnection,
  type NodeChange,
} from "@xyflow/react";
import { useCallback, useEffect, useMemo, useRef, useState, type DragEvent } from "react";
import type { DocEdge, Problem, WorkflowDocument } from "../document/types";
import { connect, hasEdge } from "../document/edit";
import { ancestors } from "../document/graph";
import type { CanvasEdge, CanvasNode, RunState } from "../document/convert";
import { createFramedCache, documentToFramedCanvas, FRAME, frameOf, framedCanvasToDocument } from "../document/frames";
import { editInScope, graphAt, splitScopedId } from "../document/groups";
import { edgeTypes } from "./edges";
import { useEditorContext, useEditorState } from "./context";
import { canvasNodeTypes } from "./groups/canvasTypes";
import { FrameContext, useCollapsedFrames } from "./groups/frameState";

export const PALETTE_MIME = "application/x-nodeflow-node-type";
const NODE_WIDTH = 240;

// Props xyflow copies into its store: constants, so a re-render of the canvas does not
// look like a change to them (each change would re-run every node's and edge's selectors).
// Fitting leaves the bottom band clear: the minimap (bottom right) and the problem panel (bottom
// centre) float there, and a node drawn under them could not be seen or clicked.
const FIT_VIEW_OPTIONS: FitViewOptions = { maxZoom: 1, padding: { top: "48px", left: "48px", right: "48px", bottom: "190px" } };
const SNAP_GRID: [number, number] = [10, 10];
const DEFAULT_EDGE_OPTIONS = { type: "nodeflow" };
const PRO_OPTIONS = { hideAttribution: false };
const MULTI_SELECTION_KEYS = ["Meta", "Control"];

function minimapColor(node: CanvasNode): string {
  if (node.data.problems.length) return "#ef4444";
  switch (node.type) {
    case "trigger":
      return "#f59e0b";
    case "http":
      return "#3b82f6";
    case "code":
      return "#8b5cf6";
    case "logic":
      return "#10b981";
    default:
      return "#94a3b8";
  }
}

const NO_PROBLEMS: readonly Problem[] = [];

export function Canvas({ onInteractive, runStates, runNotes, edgeCarried, document: shown }: {
  onInteractive?: () => void;
  /** The execution view: draw this document (the one that ran), read-only, instead of the draft. */
  document?: WorkflowDocument;
  /** The execution view: each node's run state. */
  runStates?: Readonly<Record<string, RunState>>;
  runNotes?: Readonly<Record<string, string>>;
  edgeCarried?: (edge: DocEdge, port: string) => boolean;
}) {
  const { store, catalog, actions, readOnly } = useEditorContext();
  const draft = useEditorState((state) => state.history.present);
  const draftProblems = useEditorState((state) => state.problems);
  // The draft's problems are not about the document that ran.
  const doc = shown ?? draft;
  const problems = shown ? NO_PROBLEMS : draftProblems;
  const selectedNodes = useEditorState((state) => state.selectedNodes);
  const selectedEdges = useEditorState((state) => state.selectedEdges);
  const flow = useReactFlow<CanvasNode, CanvasEdge>();

  // Sizes the canvas measured, carried into the nodes so that xyflow does not measure them again.
  const measured = useRef(new Map<string, { width: number; height: number }>());
  const [measuredVersion, setMeasuredVersion] = useState(0);
  const cache = useRef(createFramedCache());
  // Bodies of groups and loops are drawn as frames, which people collapse and expand (issue 18).
  const frames = useCollapsedFrames(String(store.getState().workflow.id));
  const collapsed = frames.collapsed;

  const { nodes, edges } = useMemo(
    () => documentToFramedCanvas(doc, catalog, { problems, selectedNodes, selectedEdges, measured: measured.current, nodeRunStates: runStates, nodeRunNotes: runNotes, edgeCarried }, { collapsed }, cache.current),
    // measuredVersion: the map is mutated in place
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [doc, catalog, problems, selectedNodes, selectedEdges, measuredVersion, runStates, runNotes, edgeCarried, collapsed],
  );
  const current = useRef({ nodes, edges });
  current.current = { nodes, edges };
  const dragging = useRef(false);
  // Fit the view to the workflow it opened with; an empty canvas keeps the default view, so
  // the first node dropped on it does not make the view jump.
  const [fitOnOpen] = useState(() => nodes.length > 0);
  const [minimap, toggleMinimap] = useMinimapShown();

  const onNodesChange = useCallback(
    (changes: NodeChange<CanvasNode>[]) => {
      let remeasured = false;
      const moves: NodeChange<CanvasNode>[] = [];
      let selection: Set<string> | null = null;
      for (const change of changes) {
        if (change.type === "dimensions" && change.dimensions) {
          const before = measured.current.get(change.id);
          if (!before || before.width !== change.dimensions.width || before.height !== change.dimensions.height) {
            measured.current.set(change.id, change.dimensions);
            remeasured = true;
          }
        } else if (change.type === "position" && change.position) {
          // A node inside a frame stays below its header and right of its left edge.
          moves.push(change.id.includes("/") ? { ...change, position: { x: Math.max(0, change.position.x), y: Math.max(FRAME.head, change.position.y) } } : change);
        } else if (change.type === "select") {
          selection ??= new Set(store.getState().selectedNodes);
          if (change.selected) selection.add(change.id);
          else selection.delete(change.id);
        }
      }
      if (moves.length && !readOnly) {
        const { nodes: before, edges: edgesNow } = current.current;
        const next = framedCanvasToDocument(store.doc, applyNodeChanges(moves, before), edgesNow);
        if (dragging.current) store.dragTo(next);
        else store.edit(() => next, "move");
      }
      if (selection) store.select(selection, store.getState().selectedEdges);
      if (remeasured) setMeasuredVersion((version) => version + 1);
    },
    [store, readOnly],
  );

  const onEdgesChange = useCallback(
    (changes: EdgeChange<CanvasEdge>[]) => {
      let selection: Set<string> | null = null;
      for (const change of changes) {
        if (change.type === "select") {
          selection ??= new Set(store.getState().selectedEdges);
          if (change.selected) selection.add(change.id);
          else selection.delete(change.id);
        }
      }
      if (selection) store.select(store.getState().selectedNodes, selection);
    },
    [store],
  );

  // Connections join nodes of one graph: the top level, or one body (by their local ids there).
  const onConnect = useCallback(
    (connection: Connection) => {
      const source = splitScopedId(connection.source);
      const target = splitScopedId(connection.target);
      if (source.scope.join("/") !== target.scope.join("/")) return;
      store.edit((current) => editInScope(current, source.scope, (graph) => connect(graph, source.id, connection.sourceHandle ?? "main", target.id)));
    },
    [store],
  );

  /** No self-loops, no repeats, no cycles, nothing across a frame's edge: each graph stays a DAG (FORMAT.md "Edges"). */
  const isValidConnection = useCallback<IsValidConnection<CanvasEdge>>(
    (connection) => {
      if (!connection.source || !connection.target || connection.source === connection.target) return false;
      const source = splitScopedId(connection.source);
      const target = splitScopedId(connection.target);
      if (source.scope.join("/") !== target.scope.join("/")) return false;
      const current = graphAt(store.doc, source.scope);
      if (!current) return false;
      if (hasEdge(current, source.id, connection.sourceHandle ?? "main", target.id)) return false;
      return !ancestors(current, source.id).includes(target.id);
    },
    [store],
  );

  const onDrop = useCallback(
    (event: DragEvent) => {
      const type = event.dataTransfer.getData(PALETTE_MIME);
      if (!type || readOnly) return;
      event.preventDefault();
      const point = flow.screenToFlowPosition({ x: event.clientX, y: event.clientY });
      // Dropped on an open frame: into its body (the innermost one), at the point relative to the frame.
      const frame = flow
        .getIntersectingNodes({ x: point.x, y: point.y, width: 1, height: 1 })
        .filter((node) => frameOf(node as CanvasNode)?.collapsed === false)
        .sort((a, b) => b.id.split("/").length - a.id.split("/").length)[0];
      const origin = frame ? flow.getInternalNode(frame.id)?.internals.positionAbsolute : undefined;
      if (frame && origin) {
        const at: [number, number] = [Math.max(0, point.x - origin.x - NODE_WIDTH / 2), Math.max(FRAME.head, point.y - origin.y - 30)];
        actions.addNode(type, at, frameOf(frame as CanvasNode)?.scope);
        return;
      }
      actions.addNode(type, [point.x - NODE_WIDTH / 2, point.y - 30]);
    },
    [flow, actions, readOnly],
  );

  const onDragOver = useCallback((event: DragEvent) => {
    if (!readOnly && event.dataTransfer.types.includes(PALETTE_MIME)) {
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
    }
  }, [readOnly]);

  const beginDrag = useCallback(() => {
    dragging.current = true;
    store.beginDrag();
  }, [store]);
  const endDrag = useCallback(() => {
    dragging.current = false;
    store.endDrag();
  }, [store]);

  // Time to interactive: the first moment every node is measured and drawn.
  const initialized = useNodesInitialized();
  const reported = useRef(false);
  useEffect(() => {
    if ((initialized || nodes.length === 0) && !reported.current) {
      reported.current = true;
      requestAnimationFrame(() => onInteractive?.());
    }
  }, [initialized, nodes.length, onInteractive]);

  return (
    <FrameContext.Provider value={frames}>
    <div className={`nf-canvas ${readOnly ? "nf-canvas--read-only" : ""}`} onDrop={onDrop} onDragOver={onDragOver} data-read-only={readOnly || undefined}>
      <ReactFlow<CanvasNode, CanvasEdge>
        nodes={nodes}
        edges={edges}
        nodeTypes={canvasNodeTypes}
        edgeTypes={edgeTypes}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onConnect={onConnect}
        nodesDraggable={!readOnly}
        nodesConnectable={!readOnly}
        isValidConnection={isValidConnection}
        onNodeDragStart={beginDrag}
        onNodeDragStop={endDrag}
        onSelectionDragStart={beginDrag}
        onSelectionDragStop={endDrag}
        deleteKeyCode={null}
        selectionKeyCode="Shift"
        multiSelectionKeyCode={MULTI_SELECTION_KEYS}
        fitView={fitOnOpen}
        fitViewOptions={FIT_VIEW_OPTIONS}
        minZoom={0.1}
        maxZoom={2}
        snapToGrid
        snapGrid={SNAP_GRID}
        connectionRadius={28}
        defaultEdgeOptions={DEFAULT_EDGE_OPTIONS}
        proOptions={PRO_OPTIONS}
        colorMode="light"
      >
        <Background variant={BackgroundVariant.Dots} gap={20} size={1.2} color="#cbd2dc" />
        <Controls position="bottom-left" showInteractive={false}>
          <ControlButton
            onClick={toggleMinimap}
            title={minimap ? "Hide the minimap" : "Show the minimap"}
            aria-label={minimap ? "Hide the minimap" : "Show the minimap"}
          >
            <svg viewBox="0 0 16 16" aria-hidden="true"><rect x="1.5" y="3.5" width="13" height="9" rx="1" fill="none" stroke="currentColor" /><rect x="8" y="7" width="5" height="4" fill="currentColor" /></svg>
          </ControlButton>
        </Controls>
        {minimap && (
          <MiniMap position="bottom-right" pannable zoomable nodeColor={minimapColor} nodeStrokeWidth={0} maskColor="rgba(241, 243, 248, 0.7)" />
        )}
      </ReactFlow>
    </div>
    </FrameContext.Provider>
  );
}

const MINIMAP_KEY = "nodeflow.editor.minimap";

/** Whether the minimap is shown: each browser remembers the choice (shown at first). */
function useMinimapShown(): [boolean, () => void] {
  const [shown, setShown] = useState(() => localStorage.getItem(MINIMAP_KEY) !== "hidden");
  const toggle = useCallback(() => {
    setShown((before) => {
      localStorage.setItem(MINIMAP_KEY, before ? "hidden" : "shown");
      return !before;
    });
  }, []);
  return [shown, toggle];
}
