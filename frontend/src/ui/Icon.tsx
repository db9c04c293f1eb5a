/** Line icons (24×24, stroke), drawn inline so the bundle needs no icon font. */
const PATHS: Record<string, string> = {
  plus: "M12 5v14M5 12h14",
  play: "M7 4l13 8-13 8z",
  search: "M11 18a7 7 0 1 0 0-14 7 7 0 0 0 0 14zM20 20l-4-4",
  trash: "M4 7h16M10 11v6M14 11v6M6 7l1 12a2 2 0 0 0 2 2h6a2 2 0 0 0 2-2l1-12M9 7V4h6v3",
  copy: "M9 9h10v10H9zM5 15V5h10",
  edit: "M4 20h4L19 9l-4-4L4 16v4zM14 6l4 4",
  undo: "M9 14L4 9l5-5M4 9h10a6 6 0 0 1 0 12h-3",
  redo: "M15 14l5-5-5-5M20 9H10a6 6 0 0 0 0 12h3",
  save: "M5 3h11l3 3v15H5zM8 3v6h8V3M8 21v-7h8v7",
  upload: "M12 16V4M7 9l5-5 5 5M4 20h16",
  download: "M12 4v12M7 11l5 5 5-5M4 20h16",
  back: "M15 18l-6-6 6-6",
  check: "M5 12l5 5 9-10",
  alert: "M12 9v4M12 17h.01M10.3 3.9L1.8 18a2 2 0 0 0 1.7 3h17a2 2 0 0 0 1.7-3L13.7 3.9a2 2 0 0 0-3.4 0z",
  x: "M6 6l12 12M18 6L6 18",
  rocket: "M5 15c-1.5 1.5-2 5-2 5s3.5-.5 5-2M9 12l3 3M14 4c3-1 6-1 6-1s0 3-1 6l-7 7-5-5 7-7zM15 9h.01",
  pause: "M8 5v14M16 5v14",
  logout: "M15 12H4M8 8l-4 4 4 4M12 4h7v16h-7",
  bolt: "M13 2L4 14h7l-1 8 9-12h-7z",
  globe: "M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18zM3 12h18M12 3c2.5 3 2.5 15 0 18M12 3c-2.5 3-2.5 15 0 18",
  code: "M8 7l-5 5 5 5M16 7l5 5-5 5M14 4l-4 16",
  branch: "M6 3v12M18 9a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM6 21a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM18 9c0 6-12 3-12 9",
  database: "M4 6c0-1.7 3.6-3 8-3s8 1.3 8 3-3.6 3-8 3-8-1.3-8-3zM4 6v12c0 1.7 3.6 3 8 3s8-1.3 8-3V6M4 12c0 1.7 3.6 3 8 3s8-1.3 8-3",
  flow: "M4 6h6v4H4zM14 14h6v4h-6zM7 10v4a2 2 0 0 0 2 2h5",
  box: "M21 8l-9-5-9 5 9 5 9-5zM3 8v8l9 5 9-5V8M12 13v8",
  clock: "M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18zM12 7v5l3 2",
  hook: "M6 14a4 4 0 1 0 4 4h6M18 14a4 4 0 1 0-4 4M12 6a4 4 0 1 0-3.5 6L6 18",
  hand: "M8 13V5a2 2 0 0 1 4 0v6M12 10V4a2 2 0 0 1 4 0v7M16 10a2 2 0 0 1 4 0v5a7 7 0 0 1-7 7h-1a7 7 0 0 1-5.6-2.8L4 15.5a2 2 0 0 1 3.2-2.4L8 14",
  fit: "M4 9V4h5M15 4h5v5M20 15v5h-5M9 20H4v-5",
  more: "M5 12h.01M12 12h.01M19 12h.01",
  file: "M14 3H6v18h12V7zM14 3v4h4",
};

export type IconName = keyof typeof PATHS;

export function Icon({ name, size = 16, className }: { name: IconName | string; size?: number; className?: string }) {
  return (
    <svg className={`nf-icon ${className ?? ""}`} width={size} height={size} viewBox="0 0 24 24" fill="none" stroke="currentColor"
      strokeWidth={1.8} strokeLinecap="round" strokeLinejoin="round" aria-hidden="true">
      <path d={PATHS[name] ?? PATHS.box} />
    </svg>
  );
}

/** The icon of a node type: by type for the well-known ones, else by category. */
export function nodeIcon(type: string, category: string): string {
  const byType: Record<string, string> = {
    "trigger.manual": "hand",
    "trigger.schedule": "clock",
    "trigger.webhook": "hook",
    "http.request": "globe",
    "code.python": "code",
    "logic.if": "branch",
    "logic.switch": "branch",
    "data.set": "database",
    "flow.wait": "pause",
    "flow.terminal": "check",
    "flow.fail": "alert",
    "flow.merge": "flow",
  };
  const byCategory: Record<string, string> = { trigger: "bolt", http: "globe", code: "code", logic: "branch", data: "database", flow: "flow" };
  return byType[type] ?? byCategory[category] ?? "box";
}
