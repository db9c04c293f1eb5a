/**
 * Parameter forms of their own for node types whose params the generated form does not suit: a
 * group's or a loop's body (drawn on the canvas, not edited as JSON) and a sub-workflow's workflow
 * and version (picked from lists).
 */
import { useMemo, type ComponentType } from "react";
import type { NodeTypeEntry } from "../../api/types";
import { hasBodyParam } from "../../document/groups";
import { isRecord } from "../../document/types";
import { SchemaForm, type FormContext } from "../../forms/SchemaForm";
import type { JsonSchema } from "../../forms/schema";
import { SubworkflowForm } from "./SubworkflowForm";

export interface ParamFormProps {
  entry: NodeTypeEntry;
  params: Record<string, unknown>;
  onChange: (name: string, value: unknown) => void;
  context: FormContext;
  workflowId: string;
}

/** The params of a group-like node but its body, which the canvas shows inside the node's frame. */
function BodyNodeForm({ entry, params, onChange, context }: ParamFormProps) {
  const schema = useMemo(() => {
    const properties = isRecord(entry.params_schema.properties) ? entry.params_schema.properties : {};
    const rest = Object.fromEntries(Object.entries(properties).filter(([name]) => name !== "graph"));
    return { ...entry.params_schema, properties: rest } as JsonSchema;
  }, [entry]);
  return (
    <>
      <p className="nf-field-help" data-testid="body-hint">
        Its body is drawn inside its frame on the canvas: drop nodes from the palette into the frame and connect them there,
        starting from its <code>Group start</code> node. Inside, <code>input</code> is{" "}
        {entry.type === "flow.foreach" ? <code>{"{item, index, items_total}"}</code> : "the group's input"} and only the body's nodes are visible.
      </p>
      <SchemaForm schema={schema} value={params} defaults={entry.defaults} onChange={onChange} context={context} />
    </>
  );
}

const BY_TYPE: Record<string, ComponentType<ParamFormProps>> = { "flow.subworkflow": SubworkflowForm };

/** The form of `entry`'s params when it has one of its own (else the generated form is used). */
export function paramFormFor(entry: NodeTypeEntry | undefined): ComponentType<ParamFormProps> | undefined {
  if (!entry) return undefined;
  return BY_TYPE[entry.type] ?? (hasBodyParam(entry) ? BodyNodeForm : undefined);
}
