/**
 * A run's input against the workflow's `input_schema`, in the browser, field by field: the common
 * keywords a form can say something useful about (type, required, enum, const, bounds, lengths,
 * pattern, items, properties, additionalProperties). The server checks the whole JSON Schema when
 * the run starts; keywords left out here (`$ref`, `anyOf`, `if`…) are its alone. Pure.
 */
import { isRecord } from "../document/types";
import { canonicalJson } from "../executions/revision";
import type { JsonSchema } from "./schema";

/** A problem with the value at `path` ("name", "address.city", "tags.0"; "" is the whole input). */
export interface FieldProblem {
  path: string;
  message: string;
}

function jsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

function typeMatches(value: unknown, type: string): boolean {
  const actual = jsonType(value);
  return actual === type || (type === "number" && actual === "integer");
}

const ARTICLE: Record<string, string> = {
  string: "a text", number: "a number", integer: "a whole number", boolean: "true or false", object: "an object", array: "a list", null: "null",
};

function same(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

function join(path: string, key: string | number): string {
  return path ? `${path}.${key}` : String(key);
}

export function validateValue(schema: unknown, value: unknown, path = ""): FieldProblem[] {
  if (!isRecord(schema)) return [];
  const problems: FieldProblem[] = [];
  const report = (message: string, at = path) => problems.push({ path: at, message });
  const types = typeof schema.type === "string" ? [schema.type] : Array.isArray(schema.type) ? schema.type.filter((t): t is string => typeof t === "string") : [];
  if (types.length && !types.some((type) => typeMatches(value, type))) {
    report(`Must be ${types.map((type) => ARTICLE[type] ?? type).join(" or ")}.`);
    return problems;
  }
  if (Array.isArray(schema.enum) && !schema.enum.some((option) => same(option, value))) {
    report(`Must be one of: ${schema.enum.map((option) => (typeof option === "string" ? option : JSON.stringify(option))).join(", ")}.`);
  }
  if ("const" in schema && !same(schema.const, value)) report(`Must be ${JSON.stringify(schema.const)}.`);

  if (typeof value === "string") {
    const length = [...value].length;
    if (typeof schema.minLength === "number" && length < schema.minLength) {
      report(schema.minLength === 1 ? "Must not be empty." : `Must be at least ${schema.minLength} characters long.`);
    }
    if (typeof schema.maxLength === "number" && length > schema.maxLength) report(`Must be at most ${schema.maxLength} characters long.`);
    if (typeof schema.pattern === "string") {
      let pattern: RegExp | null = null;
      try {
        pattern = new RegExp(schema.pattern, "u");
      } catch {
        // A pattern JavaScript cannot read: left to the server.
      }
      if (pattern && !pattern.test(value)) report(`Must match ${schema.pattern}.`);
    }
  }

  if (typeof value === "number") {
    if (typeof schema.minimum === "number" && value < schema.minimum) report(`Must be at least ${schema.minimum}.`);
    if (typeof schema.maximum === "number" && value > schema.maximum) report(`Must be at most ${schema.maximum}.`);
    if (typeof schema.exclusiveMinimum === "number" && value <= schema.exclusiveMinimum) report(`Must be more than ${schema.exclusiveMinimum}.`);
    if (typeof schema.exclusiveMaximum === "number" && value >= schema.exclusiveMaximum) report(`Must be less than ${schema.exclusiveMaximum}.`);
    if (typeof schema.multipleOf === "number" && schema.multipleOf > 0 && !Number.isInteger(value / schema.multipleOf)) {
      report(`Must be a multiple of ${schema.multipleOf}.`);
    }
  }

  if (Array.isArray(value)) {
    if (typeof schema.minItems === "number" && value.length < schema.minItems) report(`Needs at least ${schema.minItems} item${schema.minItems === 1 ? "" : "s"}.`);
    if (typeof schema.maxItems === "number" && value.length > schema.maxItems) report(`Takes at most ${schema.maxItems} item${schema.maxItems === 1 ? "" : "s"}.`);
    if (schema.uniqueItems === true && new Set(value.map((item) => JSON.stringify(item))).size !== value.length) report("Items must differ.");
    if (isRecord(schema.items)) value.forEach((item, index) => problems.push(...validateValue(schema.items, item, join(path, index))));
  }

  if (isRecord(value)) {
    const properties = isRecord(schema.properties) ? schema.properties : {};
    if (Array.isArray(schema.required)) {
      for (const name of schema.required) {
        if (typeof name === "string" && !(name in value)) report("Required.", join(path, name));
      }
    }
    for (const [name, item] of Object.entries(value)) {
      if (name in properties) problems.push(...validateValue(properties[name], item, join(path, name)));
      else if (schema.additionalProperties === false) report("Not expected here.", join(path, name));
      else if (isRecord(schema.additionalProperties)) problems.push(...validateValue(schema.additionalProperties, item, join(path, name)));
    }
  }
  return problems;
}

/**
 * The server's `invalid_input` message ("input at age: 'x' is not of type 'integer'; input at (root):
 * 'name' is a required property") as problems by field; what it cannot place stays at the root.
 */
export function serverInputProblems(message: string): FieldProblem[] {
  const parts = message.split(/;\s*(?=input at )/);
  return parts.map((part) => {
    const match = /^input at ([^:]*): (.*)$/s.exec(part.trim());
    if (!match) return { path: "", message: part.trim() };
    const where = match[1] === "(root)" ? "" : match[1].split("/").join(".");
    const required = /^'([^']+)' is a required property$/.exec(match[2]);
    if (required) return { path: join(where, required[1]), message: "Required." };
    return { path: where, message: match[2].charAt(0).toUpperCase() + match[2].slice(1) + (match[2].endsWith(".") ? "" : ".") };
  });
}

/** A lookup of messages by field path, as the generated form wants them (`deep`: also those inside). */
export function fieldMessages(problems: readonly FieldProblem[]): (path: string, deep: boolean) => string[] | undefined {
  return (path, deep) => {
    const found = problems.filter((problem) => problem.path === path || (deep && problem.path.startsWith(`${path}.`))).map((problem) => problem.message);
    return found.length ? [...new Set(found)] : undefined;
  };
}

/** Whether the schema describes an object with named fields, so a form can stand in for the JSON. */
export function formFits(schema: unknown): schema is JsonSchema {
  return isRecord(schema) && (schema.type === undefined || schema.type === "object") && isRecord(schema.properties) && Object.keys(schema.properties).length > 0;
}

/**
 * A starting input from the workflow's input_schema: each property's default; a required one without
 * a default gets an empty value of its type (a choice from a list gets none: nothing is chosen for people).
 */
export function initialInput(inputSchema: unknown): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  if (!isRecord(inputSchema) || !isRecord(inputSchema.properties)) return input;
  const required = new Set(Array.isArray(inputSchema.required) ? inputSchema.required : []);
  for (const [name, property] of Object.entries(inputSchema.properties)) {
    if (!isRecord(property)) continue;
    if ("default" in property) input[name] = property.default;
    else if (!required.has(name) || Array.isArray(property.enum) || "const" in property) continue;
    else if (property.type === "number" || property.type === "integer") input[name] = 0;
    else if (property.type === "boolean") input[name] = false;
    else if (property.type === "array") input[name] = [];
    else if (property.type === "object") input[name] = {};
    else if (property.type === "string") input[name] = "";
  }
  return input;
}
