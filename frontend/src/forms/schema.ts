/** Which form widget edits a value of a JSON Schema (a node type's params_schema). */
import { isRecord } from "../document/types";

export type JsonSchema = Record<string, unknown>;

export type Widget =
  | "text"
  | "number"
  | "integer"
  | "boolean"
  | "select"
  | "multiselect"
  | "stringlist"
  | "keyvalue"
  | "object"
  | "objectlist"
  | "python"
  | "jsonlogic"
  | "json"
  | "any";

function types(schema: JsonSchema): string[] {
  if (typeof schema.type === "string") return [schema.type];
  if (Array.isArray(schema.type)) return schema.type.filter((t): t is string => typeof t === "string");
  return [];
}

export function widgetFor(schema: JsonSchema): Widget {
  const hint = schema["x-nodeflow-widget"];
  if (hint === "python") return "python";
  if (hint === "jsonlogic") return "jsonlogic";
  const kinds = types(schema);
  if (Array.isArray(schema.enum) && (kinds.length === 0 || kinds.every((kind) => kind === "string"))) return "select";
  if (kinds.length !== 1) return "any";
  const [kind] = kinds;
  if (kind === "string") return "text";
  if (kind === "number") return "number";
  if (kind === "integer") return "integer";
  if (kind === "boolean") return "boolean";
  if (kind === "array") {
    const items = isRecord(schema.items) ? schema.items : {};
    if (Array.isArray(items.enum)) return "multiselect";
    if (items.type === "string" && !items["x-nodeflow-widget"]) return "stringlist";
    if (items.type === "object" && isRecord(items.properties)) return "objectlist";
    return "json";
  }
  if (kind === "object") {
    if (isRecord(schema.properties) && Object.keys(schema.properties).length) return "object";
    if (schema.additionalProperties === false) return "json";
    return "keyvalue";
  }
  return "any";
}

/** A field's label: its title, else its name made readable. */
export function labelOf(name: string, schema: JsonSchema): string {
  if (typeof schema.title === "string" && schema.title) return schema.title;
  const unit = /_(s|ms|kb|mb)$/.exec(name);
  const base = unit ? name.slice(0, -unit[0].length) : name;
  const words = base.replace(/_/g, " ") + (unit ? ` (${unit[1] === "kb" || unit[1] === "mb" ? unit[1].toUpperCase() : unit[1]})` : "");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export function propertiesOf(schema: JsonSchema): [string, JsonSchema][] {
  return isRecord(schema.properties) ? Object.entries(schema.properties).filter((entry): entry is [string, JsonSchema] => isRecord(entry[1])) : [];
}

export function requiredOf(schema: JsonSchema): Set<string> {
  return new Set(Array.isArray(schema.required) ? schema.required.filter((name): name is string => typeof name === "string") : []);
}

/** Values of a key/value list: strings as typed, other JSON as JSON text. */
export function valueToText(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** Text of a key/value row back to a value: kept a string unless the original was not one and it parses. */
export function textToValue(text: string, original: unknown): unknown {
  if (typeof original === "string" || original === undefined) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Parses JSON text; `{ok: false}` with the parser's message when it is not JSON. */
export function parseJson(text: string): { ok: true; value: unknown } | { ok: false; message: string } {
  if (!text.trim()) return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, message: error instanceof Error ? error.message : String(error) };
  }
}
