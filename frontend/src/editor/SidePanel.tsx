/** The side panel: the selected node's form, the selected connection, or the workflow's settings. */
import { useEffect, useMemo, useState } from "react";
import { canvasEdgesById, problemsOfEdge } from "../document/convert";
import { followRenamedPort, renameNodeId, setParam, updateNode, withKey } from "../document/edit";
import { availablePaths } from "../document/expressions";
import { useGlobalKeys } from "../variables/useGlobalKeys";
import { globalPaths } from "../variables/values";
import { countReferences } from "../document/references";
import { readableMessage } from "../document/labels";
import { nodePorts } from "../document/ports";
import { NODE_ID_PATTERN, isDrawableNode, isRecord, nodesOf, type DocNode, type WorkflowDocument } from "../document/types";
import { messageLookup } from "../forms/problems";
import { SchemaField, SchemaForm, type FormContext } from "../forms/SchemaForm";
import type { JsonSchema } from "../forms/schema";
import { Button } from "../ui/Button";
import { Icon, nodeIcon } from "../ui/Icon";
import { useEditorContext, useEditorState } from "./context";
import { TriggerInfo } from "./TriggerInfo";
import { SandboxNotice } from "./SandboxNotice";
import { paramFormFor } from "./groups/paramForms";
import { ScopedPanel } from "./groups/ScopedPanel";
import { NodeDebugSection } from "./debug/NodeDebugSection";
import { TestsPanel } from "./debug/TestsPanel";

const NO_PATHS: readonly string[] = [];
const noMessages = () => undefined;

export function SidePanel({ documentSchema }: { documentSchema: JsonSchema }) {
  const selectedNodes = useEditorState((state) => state.selectedNodes);
  const selectedEdges = useEditorState((state) => state.selectedEdges);
  let body;
  if (selectedNodes.size === 1) {
    const [id] = selectedNodes;
    // A node inside a group's or a loop's body: the panel sees that body as its document.
    body = <ScopedPanel key={id} nodeId={id}>{(localId) => <NodePanel nodeId={localId} documentSchema={documentSchema} />}</ScopedPanel>;
  } else if (selectedNodes.size > 1) body = <SelectionPanel count={selectedNodes.size} />;
  else if (selectedEdges.size === 1) body = <EdgePanel edgeId={[...selectedEdges][0]} />;
  else body = <WorkflowPanel documentSchema={documentSchema} />;
  return <aside className="nf-side" aria-label="Details">{body}</aside>;
}

function nodeSchemaOf(documentSchema: JsonSchema): Record<string, JsonSchema> {
  const nodes = isRecord(documentSchema.properties) ? documentSchema.properties.nodes : undefined;
  const items = isRecord(nodes) && isRecord(nodes.items) ? nodes.items : {};
  return (isRecord(items.properties) ? items.properties : {}) as Record<string, JsonSchema>;
}

function NodePanel({ nodeId, documentSchema }: { nodeId: string; documentSchema: JsonSchema }) {
  const { store, catalog, actions } = useEditorContext();
  const doc = useEditorState((state) => state.history.present);
  const problems = useEditorState((state) => state.problems);
  const workflow = useEditorState((state) => state.workflow);
  const [tab, setTab] = useState<"params" | "settings">("params");
  const node = nodesOf(doc).find((item): item is DocNode => isDrawableNode(item) && item.id === nodeId);
  const globalKeys = useGlobalKeys();
  const paths = useMemo(() => (node ? availablePaths(doc, nodeId, catalog, globalPaths(globalKeys, doc)) : NO_PATHS),
    [doc, nodeId, catalog, node, globalKeys]);
  if (!node) return null;
  const entry = catalog.get(node.type, node.version);
  const nodeProblems = problems.filter((problem) => problem.node_id === nodeId);
  const params = isRecord(node.params) ? node.params : {};
  const context: FormContext = { paths, messagesAt: messageLookup(nodeProblems), raw: new Set(entry?.raw_params ?? []) };
  const nodeSchema = nodeSchemaOf(documentSchema);
  const trigger = workflow.triggers.find((item) => item.node_id === nodeId);
  const ParamForm = paramFormFor(entry);

  const setParamValue = (name: string, value: unknown) =>
    store.edit((current) => {
      const before = nodesOf(current).find((item): item is DocNode => isDrawableNode(item) && item.id === nodeId);
      let next = setParam(current, nodeId, name, value);
      const after = nodesOf(next).find((item): item is DocNode => isDrawableNode(item) && item.id === nodeId);
      if (before && after) next = followRenamedPort(next, nodeId, nodePorts(before, entry).out, nodePorts(after, entry).out);
      return next;
    }, `param:${nodeId}:${name}`);

  const setNodeKey = (key: string, value: unknown) =>
    store.edit((current) => updateNode(current, nodeId, (item) => (item[key as keyof DocNode] === value ? item : withKey(item, key, value))), `node:${nodeId}:${key}`);

  return (
    <div className="nf-panel" data-panel="node">
      <div className="nf-panel-head">
        <span className={`nf-panel-icon nf-panel-icon--${entry?.category ?? "unknown"}`}><Icon name={nodeIcon(node.type, entry?.category ?? "")} size={18} /></span>
        <div className="nf-panel-titles">
          <input className="nf-title-input" aria-label="Node name" value={node.name ?? ""} placeholder={entry?.title ?? node.type} maxLength={200}
            onChange={(event) => setNodeKey("name", event.target.value || undefined)} />
          <div className="nf-muted nf-small">{entry ? `${entry.title} · ${entry.type} v${node.version ?? entry.version}` : `${node.type} — not a registered node type`}</div>
        </div>
      </div>
      {entry?.description && <p className="nf-panel-desc">{entry.description}</p>}
      {node.type.startsWith("code.") && <SandboxNotice />}
      {nodeProblems.length > 0 && (
        <ul className="nf-problems-inline" aria-label="Problems of this node">
          {nodeProblems.map((problem, index) => <li key={index} title={problem.message}><Icon name="alert" size={13} /> {readableMessage(problem.message, doc)}</li>)}
        </ul>
      )}
      <div className="nf-tabs" role="tablist">
        <button type="button" role="tab" aria-selected={tab === "params"} className={tab === "params" ? "is-on" : ""} onClick={() => setTab("params")}>Parameters</button>
        <button type="button" role="tab" aria-selected={tab === "settings"} className={tab === "settings" ? "is-on" : ""} onClick={() => setTab("settings")}>Settings</button>
      </div>
      {tab === "params" ? (
        <div className="nf-panel-body" role="tabpanel">
          {entry?.trigger && <TriggerInfo type={node.type} trigger={trigger} published={Boolean(workflow.published_version)} dirty={store.isDirty()} params={params} />}
          {entry && ParamForm ? (
            <ParamForm entry={entry} params={params} onChange={setParamValue} context={context} workflowId={String(workflow.id)} />
          ) : entry ? (
            <SchemaForm schema={entry.params_schema as JsonSchema} value={params} defaults={entry.defaults} onChange={setParamValue} context={context} />
          ) : (
            <SchemaField name="params" path="" schema={{ type: "object", additionalProperties: false, title: "Params (JSON)" }} value={node.params}
              onChange={(value) => setNodeKey("params", value)} context={{ ...context, messagesAt: noMessages }} />
          )}
        </div>
      ) : (
        <div className="nf-panel-body" role="tabpanel">
          <NodeIdField node={node} doc={doc} />
          {(["on_error", "timeout_s", "retry", "description"] as const).map((key) =>
            nodeSchema[key] ? (
              <SchemaField key={key} name={key} path={key} schema={nodeSchema[key]} value={node[key]} defaultValue={nodeSchema[key].default}
                onChange={(value) => setNodeKey(key, value)} context={{ paths: NO_PATHS, messagesAt: noMessages, raw: new Set([key]) }} />
            ) : null,
          )}
        </div>
      )}
      <NodeDebugSection nodeId={nodeId} />
      <div className="nf-panel-foot">
        <Button icon="copy" size="small" onClick={() => actions.duplicateSelection()}>Duplicate</Button>
        <Button icon="trash" size="small" variant="danger" onClick={() => actions.deleteSelection()}>Delete node</Button>
      </div>
    </div>
  );
}

function NodeIdField({ node, doc }: { node: DocNode; doc: WorkflowDocument }) {
  const { store } = useEditorContext();
  const [text, setText] = useState(node.id);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => setText(node.id), [node.id]);
  const commit = () => {
    if (text === node.id) return setError(null);
    if (!NODE_ID_PATTERN.test(text)) return setError("Lower-case letters, digits and _, starting with a letter (at most 64).");
    const next = renameNodeId(doc, node.id, text);
    if (!next) return setError(`Another node is called ${text}.`);
    setError(null);
    const references = countReferences(doc, node.id);
    store.edit(() => next);
    store.select([text]);
    if (references) store.notify(`Renamed ${node.id} to ${text}: ${references} reference${references === 1 ? "" : "s"} in other nodes updated.`);
  };
  return (
    <div className={`nf-field ${error ? "nf-field--invalid" : ""}`}>
      <label className="nf-field-label" htmlFor="nf-node-id">ID</label>
      <input id="nf-node-id" className="nf-input nf-mono" value={text} spellCheck={false} onChange={(event) => setText(event.target.value)}
        onBlur={commit} onKeyDown={(event) => event.key === "Enter" && commit()} />
      <div className="nf-field-help">Other nodes read this node's output as <code>{`{{ nodes.${node.id}.output }}`}</code>.</div>
      {error && <div className="nf-field-error" role="alert">{error}</div>}
    </div>
  );
}

function SelectionPanel({ count }: { count: number }) {
  const { actions } = useEditorContext();
  return (
    <div className="nf-panel" data-panel="selection">
      <div className="nf-panel-head"><div className="nf-panel-titles"><h2>{count} nodes selected</h2></div></div>
      <p className="nf-panel-desc">Drag any of them to move them together; copy with Ctrl/⌘ C and paste with Ctrl/⌘ V.</p>
      <div className="nf-panel-foot">
        <Button icon="copy" size="small" onClick={() => actions.duplicateSelection()}>Duplicate</Button>
        <Button icon="trash" size="small" variant="danger" onClick={() => actions.deleteSelection()}>Delete {count} nodes</Button>
      </div>
    </div>
  );
}

function EdgePanel({ edgeId }: { edgeId: string }) {
  const { actions } = useEditorContext();
  const doc = useEditorState((state) => state.history.present);
  const problems = useEditorState((state) => state.problems);
  const edge = canvasEdgesById(doc).get(edgeId);
  if (!edge) return null;
  const edgeProblems = problemsOfEdge(problems, edge);
  return (
    <div className="nf-panel" data-panel="edge">
      <div className="nf-panel-head"><div className="nf-panel-titles"><h2>Connection</h2></div></div>
      <p className="nf-panel-desc">
        From <code>{edge.from}</code> ({edge.port ?? "main"}) to <code>{edge.to}</code>.
      </p>
      {edgeProblems.length > 0 && (
        <ul className="nf-problems-inline">{edgeProblems.map((problem, i) => <li key={i}><Icon name="alert" size={13} /> {problem.message}</li>)}</ul>
      )}
      <div className="nf-panel-foot">
        <Button icon="trash" size="small" variant="danger" onClick={() => actions.deleteSelection()}>Delete connection</Button>
      </div>
    </div>
  );
}

function WorkflowPanel({ documentSchema }: { documentSchema: JsonSchema }) {
  const { store } = useEditorContext();
  const [tab, setTab] = useState<"workflow" | "tests">("workflow");
  const doc = useEditorState((state) => state.history.present);
  const properties = (isRecord(documentSchema.properties) ? documentSchema.properties : {}) as Record<string, JsonSchema>;
  const context: FormContext = { paths: NO_PATHS, messagesAt: noMessages, raw: new Set(["description", "settings", "input_schema"]) };
  const set = (key: string, value: unknown) => store.edit((current) => withKey(current, key, value), `workflow:${key}`);
  return (
    <div className="nf-panel" data-panel="workflow">
      <div className="nf-panel-head"><div className="nf-panel-titles"><h2>Workflow</h2></div></div>
      <div className="nf-tabs" role="tablist">
        <button type="button" role="tab" aria-selected={tab === "workflow"} className={tab === "workflow" ? "is-on" : ""} onClick={() => setTab("workflow")}>Settings</button>
        <button type="button" role="tab" aria-selected={tab === "tests"} className={tab === "tests" ? "is-on" : ""} onClick={() => setTab("tests")}>Tests</button>
      </div>
      {tab === "tests" ? <div className="nf-panel-body" role="tabpanel"><TestsPanel /></div> : <>
      <p className="nf-panel-desc">Select a node to edit it. Drag node types from the left onto the canvas and connect their ports.</p>
      <div className="nf-panel-body">
        {properties.description && (
          <SchemaField name="description" path="description" schema={properties.description} value={doc.description} onChange={(value) => set("description", value)} context={context} />
        )}
        {properties.settings && <SchemaField name="settings" path="settings" schema={properties.settings} value={doc.settings} onChange={(value) => set("settings", value)} context={context} />}
        {properties.input_schema && (
          <SchemaField name="input_schema" path="input_schema" schema={{ ...properties.input_schema, type: "object", properties: undefined, additionalProperties: false, title: "Input schema" }}
            value={doc.input_schema} onChange={(value) => set("input_schema", value)} context={context} />
        )}
        <section className="nf-shortcuts" aria-label="Keyboard shortcuts">
          <h3>Shortcuts</h3>
          <dl>
            <dt>Ctrl/⌘ S</dt><dd>Save</dd>
            <dt>Ctrl/⌘ Z · Shift Z</dt><dd>Undo · Redo</dd>
            <dt>Delete</dt><dd>Delete the selection</dd>
            <dt>Ctrl/⌘ C · V · D</dt><dd>Copy · Paste · Duplicate</dd>
            <dt>Shift drag</dt><dd>Select an area</dd>
          </dl>
        </section>
      </div>
      </>}
    </div>
  );
}
