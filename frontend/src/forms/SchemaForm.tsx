/**
 * A form generated from a node type's parameter schema (the catalog's `params_schema`):
 * one field per property, the widget chosen by `widgetFor`, defaults shown, problems
 * the server found next to the field they concern.
 */
import { lazy, Suspense, useId, useState, type ReactNode } from "react";
import { isRecord } from "../document/types";
import { Button, IconButton } from "../ui/Button";
import { ExpressionInput } from "./ExpressionInput";
import { JsonField } from "./JsonField";
import { ConditionField } from "./ConditionField";
import { KeyValueField } from "./KeyValueField";
import { labelOf, propertiesOf, requiredOf, widgetFor, type JsonSchema } from "./schema";

const CodeEditor = lazy(() => import("./CodeEditor"));

export interface FormContext {
  /** Paths `{{ … }}` may read here. */
  paths: readonly string[];
  /** Server messages about a field (path relative to params: "url", "cases.0.name"); `deep` adds those about its insides. */
  messagesAt: (path: string, deep: boolean) => string[] | undefined;
  /** Params that take no expressions (raw_params). */
  raw: ReadonlySet<string>;
}

interface FieldProps {
  name: string;
  path: string;
  schema: JsonSchema;
  value: unknown;
  defaultValue?: unknown;
  required?: boolean;
  onChange: (value: unknown) => void;
  context: FormContext;
}

export function SchemaForm({ schema, value, defaults, onChange, context }: {
  schema: JsonSchema;
  value: Record<string, unknown>;
  defaults: Record<string, unknown>;
  onChange: (name: string, value: unknown) => void;
  context: FormContext;
}) {
  const properties = propertiesOf(schema);
  const required = requiredOf(schema);
  if (!properties.length) return <p className="nf-muted nf-small">This node has no parameters.</p>;
  return (
    <div className="nf-form">
      {properties.map(([name, property]) => (
        <SchemaField key={name} name={name} path={name} schema={property} value={value[name]} defaultValue={defaults[name] ?? property.default}
          required={required.has(name)} onChange={(next) => onChange(name, next)} context={context} />
      ))}
    </div>
  );
}

function Field({ label, htmlFor, required, description, messages, children, inline }: {
  label: string;
  htmlFor?: string;
  required?: boolean;
  description?: string;
  messages?: string[];
  children: ReactNode;
  inline?: boolean;
}) {
  return (
    <div className={`nf-field ${inline ? "nf-field--inline" : ""} ${messages?.length ? "nf-field--invalid" : ""}`}>
      <label className={`nf-field-label ${required ? "is-required" : ""}`} htmlFor={htmlFor} title={required ? "Required" : undefined}>
        {label}
      </label>
      {children}
      {description && <div className="nf-field-help">{description}</div>}
      {messages?.map((message) => <div key={message} className="nf-field-error" role="alert">{message}</div>)}
    </div>
  );
}

export function SchemaField({ name, path, schema, value, defaultValue, required, onChange, context }: FieldProps) {
  const id = useId();
  const widget = widgetFor(schema);
  const label = labelOf(name, schema);
  const description = typeof schema.description === "string" ? schema.description : undefined;
  const messages = context.messagesAt(path, widget !== "object" && widget !== "objectlist");
  const takesExpressions = !context.raw.has(path.split(".")[0]);
  const paths = takesExpressions ? context.paths : undefined;
  const common = { label, htmlFor: id, required, description, messages };
  const placeholder = defaultValue !== undefined ? `Default: ${typeof defaultValue === "string" ? defaultValue : JSON.stringify(defaultValue)}` : undefined;

  switch (widget) {
    case "text":
      return (
        <Field {...common}>
          <ExpressionInput id={id} value={typeof value === "string" ? value : value === undefined ? "" : JSON.stringify(value)} paths={paths}
            placeholder={placeholder} invalid={Boolean(messages)} multiline={name === "message" || name === "result"}
            onChange={(text) => onChange(text === "" && !required ? undefined : text)} />
        </Field>
      );
    case "number":
    case "integer":
      return (
        <Field {...common}>
          <NumberInput id={id} value={value} placeholder={placeholder} integer={widget === "integer"} schema={schema} onChange={onChange} />
        </Field>
      );
    case "boolean": {
      const checked = typeof value === "boolean" ? value : defaultValue === true;
      return (
        <Field {...common} htmlFor={id} inline>
          <label className="nf-switch">
            <input id={id} type="checkbox" checked={checked} onChange={(event) => onChange(event.target.checked)} />
            <span className="nf-switch-track" aria-hidden="true" />
          </label>
        </Field>
      );
    }
    case "select": {
      const options = (schema.enum as unknown[]).map(String);
      const current = typeof value === "string" ? value : typeof defaultValue === "string" ? defaultValue : "";
      return (
        <Field {...common}>
          <select id={id} className="nf-input" value={current} onChange={(event) => onChange(event.target.value === "" ? undefined : event.target.value)}>
            {defaultValue === undefined && <option value="">{required ? "Choose…" : "— not set —"}</option>}
            {options.map((option) => <option key={option} value={option}>{option}</option>)}
          </select>
        </Field>
      );
    }
    case "multiselect": {
      const items = isRecord(schema.items) && Array.isArray(schema.items.enum) ? schema.items.enum.map(String) : [];
      const chosen = Array.isArray(value) ? value.map(String) : Array.isArray(defaultValue) ? defaultValue.map(String) : [];
      return (
        <Field {...common} htmlFor={undefined}>
          <div className="nf-chips" role="group" aria-label={label}>
            {items.map((item) => (
              <label key={item} className={`nf-chip ${chosen.includes(item) ? "is-on" : ""}`}>
                <input type="checkbox" checked={chosen.includes(item)}
                  onChange={(event) => onChange(event.target.checked ? items.filter((i) => i === item || chosen.includes(i)) : chosen.filter((i) => i !== item))} />
                {item}
              </label>
            ))}
          </div>
        </Field>
      );
    }
    case "stringlist":
      return (
        <Field {...common} htmlFor={undefined}>
          <StringList value={value} onChange={onChange} label={label} paths={paths} />
        </Field>
      );
    case "keyvalue":
      return (
        <Field {...common} htmlFor={id}>
          <KeyValueField id={id} value={value} onChange={onChange} paths={paths} />
        </Field>
      );
    case "object": {
      const object = isRecord(value) ? value : {};
      const inner = requiredOf(schema);
      return (
        <fieldset className="nf-fieldset">
          <legend className={required ? "is-required" : ""}>{label}</legend>
          {description && <div className="nf-field-help">{description}</div>}
          {propertiesOf(schema).map(([key, property]) => (
            <SchemaField key={key} name={key} path={`${path}.${key}`} schema={property} value={object[key]} defaultValue={property.default}
              required={inner.has(key)} context={context}
              onChange={(next) => {
                const copy: Record<string, unknown> = { ...object };
                if (next === undefined) delete copy[key];
                else copy[key] = next;
                onChange(Object.keys(copy).length ? copy : undefined);
              }} />
          ))}
          {messages?.map((message) => <div key={message} className="nf-field-error" role="alert">{message}</div>)}
        </fieldset>
      );
    }
    case "objectlist":
      return <ObjectList {...{ name, path, schema, value, required, onChange, context, label, messages }} />;
    case "python":
      return (
        <Field {...common} htmlFor={undefined}>
          <Suspense fallback={<textarea className="nf-input nf-textarea nf-mono" rows={8} value={typeof value === "string" ? value : ""} readOnly />}>
            <CodeEditor value={typeof value === "string" ? value : ""} onChange={(code) => onChange(code)} ariaLabel={label} />
          </Suspense>
        </Field>
      );
    case "jsonlogic":
      return (
        <Field {...common} description={description ?? 'JsonLogic, e.g. {">": [{"var": "nodes.lookup.output.status"}, 399]}'}>
          <ConditionField id={id} value={value} onChange={onChange} paths={context.paths} />
        </Field>
      );
    case "json":
      return (
        <Field {...common}>
          <JsonField id={id} value={value} onChange={onChange} />
        </Field>
      );
    case "any":
      return (
        <Field {...common} htmlFor={id}>
          <AnyValue id={id} value={value} onChange={onChange} paths={paths} />
        </Field>
      );
  }
}

function NumberInput({ id, value, placeholder, integer, schema, onChange }: {
  id: string;
  value: unknown;
  placeholder?: string;
  integer: boolean;
  schema: JsonSchema;
  onChange: (value: unknown) => void;
}) {
  const shown = typeof value === "number" ? String(value) : value === undefined ? "" : String(value);
  return (
    <input id={id} className="nf-input" type="number" inputMode={integer ? "numeric" : "decimal"} step={integer ? 1 : "any"} value={shown}
      placeholder={placeholder} min={typeof schema.minimum === "number" ? schema.minimum : undefined}
      max={typeof schema.maximum === "number" ? schema.maximum : undefined}
      onChange={(event) => {
        const text = event.target.value;
        if (text === "") return onChange(undefined);
        const number = Number(text);
        onChange(Number.isFinite(number) ? number : text);
      }} />
  );
}

function StringList({ value, onChange, label, paths }: { value: unknown; onChange: (value: unknown) => void; label: string; paths?: readonly string[] }) {
  const items = Array.isArray(value) ? value.map((item) => (typeof item === "string" ? item : JSON.stringify(item))) : [];
  const set = (next: string[]) => onChange(next.length ? next : undefined);
  return (
    <div className="nf-list">
      {items.map((item, index) => (
        <div className="nf-list-row" key={index}>
          <ExpressionInput ariaLabel={`${label} ${index + 1}`} value={item} paths={paths} onChange={(text) => set(items.map((other, i) => (i === index ? text : other)))} />
          <IconButton icon="x" label={`Remove ${label} ${index + 1}`} onClick={() => set(items.filter((_, i) => i !== index))} />
        </div>
      ))}
      <Button size="small" variant="ghost" icon="plus" onClick={() => onChange([...items, ""])}>Add</Button>
    </div>
  );
}

function ObjectList({ path, schema, value, onChange, context, label, messages, required }: FieldProps & { label: string; messages?: string[] }) {
  const itemSchema = isRecord(schema.items) ? (schema.items as JsonSchema) : {};
  const items = Array.isArray(value) ? value : [];
  const inner = requiredOf(itemSchema);
  const set = (next: unknown[]) => onChange(next);
  return (
    <fieldset className="nf-fieldset">
      <legend className={required ? "is-required" : ""}>{label}</legend>
      {items.map((item, index) => {
        const object = isRecord(item) ? item : {};
        return (
          <div className="nf-card" key={index}>
            <div className="nf-card-head">
              <span>{typeof object.name === "string" && object.name ? object.name : `#${index + 1}`}</span>
              <span>
                <IconButton icon="back" label="Move up" className="nf-rotate-90" disabled={index === 0}
                  onClick={() => set(items.map((other, i) => (i === index - 1 ? item : i === index ? items[index - 1] : other)))} />
                <IconButton icon="x" label={`Remove ${label} ${index + 1}`} onClick={() => set(items.filter((_, i) => i !== index))} />
              </span>
            </div>
            {propertiesOf(itemSchema).map(([key, property]) => (
              <SchemaField key={key} name={key} path={`${path}.${index}.${key}`} schema={property} value={object[key]} defaultValue={property.default}
                required={inner.has(key)} context={context}
                onChange={(next) => {
                  const copy: Record<string, unknown> = { ...object };
                  if (next === undefined) delete copy[key];
                  else copy[key] = next;
                  set(items.map((other, i) => (i === index ? copy : other)));
                }} />
            ))}
          </div>
        );
      })}
      <Button size="small" variant="ghost" icon="plus" onClick={() => set([...items, newItem(itemSchema, items.length)])}>Add</Button>
      {messages?.map((message) => <div key={message} className="nf-field-error" role="alert">{message}</div>)}
    </fieldset>
  );
}

/** A new list item: a `case_<n>` name when items are named (switch cases), other required keys empty. */
function newItem(schema: JsonSchema, index: number): Record<string, unknown> {
  const item: Record<string, unknown> = {};
  const properties = Object.fromEntries(propertiesOf(schema));
  if (properties.name) item.name = `case_${index + 1}`;
  if (properties.condition) item.condition = { "==": [{ var: "input.kind" }, `case_${index + 1}`] };
  return item;
}

/** A value that may be text or any JSON (a body, a result): a Text/JSON switch picks the editor. */
function AnyValue({ id, value, onChange, paths }: { id: string; value: unknown; onChange: (value: unknown) => void; paths?: readonly string[] }) {
  const [mode, setMode] = useState<"text" | "json">(typeof value === "string" || value === undefined ? "text" : "json");
  const switchTo = (next: "text" | "json") => {
    if (next === mode) return;
    setMode(next);
    if (value === undefined) return;
    if (next === "text") onChange(typeof value === "string" ? value : JSON.stringify(value));
    else if (typeof value === "string") {
      try {
        onChange(JSON.parse(value));
      } catch {
        // stays text until it parses
      }
    }
  };
  return (
    <div className="nf-any">
      <div className="nf-segmented" role="radiogroup" aria-label="Value kind">
        <button type="button" role="radio" aria-checked={mode === "text"} className={mode === "text" ? "is-on" : ""} onClick={() => switchTo("text")}>Text</button>
        <button type="button" role="radio" aria-checked={mode === "json"} className={mode === "json" ? "is-on" : ""} onClick={() => switchTo("json")}>JSON</button>
      </div>
      {mode === "text" ? (
        <ExpressionInput id={id} multiline value={typeof value === "string" ? value : value === undefined ? "" : JSON.stringify(value)} paths={paths}
          onChange={(text) => onChange(text === "" ? undefined : text)} />
      ) : (
        <JsonField id={id} value={value} onChange={onChange} placeholder='{"key": "{{ input.value }}"}' />
      )}
    </div>
  );
}
