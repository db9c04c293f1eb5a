/** An object of names to values (headers, query, variables) as editable rows. */
import { useEffect, useRef, useState } from "react";
import { IconButton } from "../ui/Button";
import { Button } from "../ui/Button";
import { ExpressionInput } from "./ExpressionInput";
import { textToValue, valueToText } from "./schema";

interface Row {
  key: string;
  text: string;
  original: unknown;
}

function rowsOf(value: unknown): Row[] {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return [];
  return Object.entries(value).map(([key, item]) => ({ key, text: valueToText(item), original: item }));
}

function objectOf(rows: Row[]): Record<string, unknown> | undefined {
  const object: Record<string, unknown> = {};
  for (const row of rows) if (row.key.trim()) object[row.key.trim()] = textToValue(row.text, row.original);
  return Object.keys(object).length ? object : undefined;
}

export function KeyValueField({ id, value, onChange, paths, keyLabel = "Name" }: {
  id?: string;
  value: unknown;
  onChange: (value: Record<string, unknown> | undefined) => void;
  paths?: readonly string[];
  keyLabel?: string;
}) {
  const [rows, setRows] = useState<Row[]>(() => rowsOf(value));
  const emitted = useRef<unknown>(value);

  useEffect(() => {
    if (value !== emitted.current) {
      emitted.current = value;
      setRows(rowsOf(value));
    }
  }, [value]);

  const update = (next: Row[]) => {
    setRows(next);
    const object = objectOf(next);
    emitted.current = object;
    onChange(object);
  };

  return (
    <div className="nf-kv" id={id}>
      {rows.map((row, index) => (
        <div className="nf-kv-row" key={index}>
          <input className="nf-input" aria-label={`${keyLabel} ${index + 1}`} placeholder={keyLabel} value={row.key} spellCheck={false}
            onChange={(event) => update(rows.map((other, i) => (i === index ? { ...other, key: event.target.value } : other)))} />
          <ExpressionInput ariaLabel={`Value ${index + 1}`} placeholder="Value" value={row.text} paths={paths}
            onChange={(text) => update(rows.map((other, i) => (i === index ? { ...other, text } : other)))} />
          <IconButton icon="x" label={`Remove ${row.key || "row"}`} onClick={() => update(rows.filter((_, i) => i !== index))} />
        </div>
      ))}
      <Button size="small" variant="ghost" icon="plus" onClick={() => setRows([...rows, { key: "", text: "", original: undefined }])}>Add</Button>
    </div>
  );
}
