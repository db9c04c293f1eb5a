/** A collapsible JSON tree with a search box; each row can copy its path (`output.items[0].name`). */
import { useMemo, useState } from "react";
import { Icon } from "./Icon";
import { toast } from "./overlays";

export function childPath(parent: string, key: string | number): string {
  if (typeof key === "number") return `${parent}[${key}]`;
  const plain = /^[A-Za-z_][A-Za-z0-9_]*$/.test(key);
  if (!parent) return plain ? key : `[${JSON.stringify(key)}]`;
  return plain ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
}

/** Whether a value, or a key or value under it, contains the search text. */
export function matches(value: unknown, text: string, key = ""): boolean {
  if (!text) return true;
  const needle = text.toLowerCase();
  if (key.toLowerCase().includes(needle)) return true;
  if (value !== null && typeof value === "object") {
    return Object.entries(value as Record<string, unknown>).some(([k, v]) => matches(v, text, k));
  }
  return JSON.stringify(value ?? null).toLowerCase().includes(needle);
}

function copy(path: string) {
  void navigator.clipboard?.writeText(path).then(
    () => toast(`Copied ${path}`),
    () => toast("The clipboard is not available here.", "error"),
  );
}

function Row({ name, value, path, search, depth }: { name: string | number | null; value: unknown; path: string; search: string; depth: number }) {
  const container = value !== null && typeof value === "object";
  const [open, setOpen] = useState(depth < 2);
  const expanded = open || (Boolean(search) && container);
  const entries = container ? (Array.isArray(value) ? value.map((item, index) => [index, item] as const) : Object.entries(value as Record<string, unknown>)) : [];
  const visible = entries.filter(([key, item]) => matches(item, search, String(key)));
  const summary = Array.isArray(value) ? `[${value.length}]` : container ? `{${entries.length}}` : JSON.stringify(value);
  return (
    <li className="nf-json-row" data-path={path}>
      <div className="nf-json-line">
        {container ? (
          <button type="button" className="nf-json-toggle" aria-expanded={expanded} aria-label={expanded ? "Collapse" : "Expand"} onClick={() => setOpen(!expanded)}>
            {expanded ? "▾" : "▸"}
          </button>
        ) : <span className="nf-json-toggle" />}
        {name !== null && <span className="nf-json-key">{name}:</span>}
        <span className={`nf-json-value nf-json-value--${value === null ? "null" : Array.isArray(value) ? "array" : typeof value}`}>
          {container && expanded ? (Array.isArray(value) ? "[" : "{") : summary}
        </span>
        {path && <button type="button" className="nf-json-copy" title={`Copy path ${path}`} aria-label={`Copy path ${path}`} onClick={() => copy(path)}><Icon name="copy" size={12} /></button>}
      </div>
      {container && expanded && (
        <ul className="nf-json-children">
          {visible.map(([key, item]) => (
            <Row key={String(key)} name={key} value={item} path={childPath(path, key)} search={search} depth={depth + 1} />
          ))}
          {visible.length < entries.length && <li className="nf-muted nf-small">{entries.length - visible.length} hidden by the search</li>}
        </ul>
      )}
    </li>
  );
}

export function JsonTree({ value, root = "", label }: { value: unknown; root?: string; label: string }) {
  const [search, setSearch] = useState("");
  const text = useMemo(() => JSON.stringify(value, null, 2) ?? "null", [value]);
  return (
    <div className="nf-json" aria-label={label}>
      <div className="nf-json-tools">
        <input className="nf-input nf-json-search" type="search" placeholder="Search" aria-label={`Search ${label}`} value={search} onChange={(event) => setSearch(event.target.value)} />
        <button type="button" className="nf-button nf-button--ghost nf-button--small" onClick={() => void navigator.clipboard?.writeText(text).then(() => toast("Copied JSON"))}>Copy JSON</button>
      </div>
      <ul className="nf-json-tree">
        <Row name={null} value={value} path={root} search={search} depth={0} />
      </ul>
    </div>
  );
}
