/** Undo/redo over whole documents: every edit is a new immutable document. */

export interface History<T> {
  past: T[];
  present: T;
  future: T[];
  /** The coalescing key and time of the last edit: typing into one field is one undo step. */
  lastKey?: string;
  lastTime?: number;
}

export const HISTORY_LIMIT = 200;
/** Edits with the same key closer together than this merge into one undo step. */
export const COALESCE_MS = 1200;

export function historyOf<T>(present: T): History<T> {
  return { past: [], present, future: [] };
}

export function pushHistory<T>(history: History<T>, next: T, options: { key?: string; now?: number } = {}): History<T> {
  if (next === history.present) return history;
  const now = options.now ?? Date.now();
  const coalesce =
    options.key !== undefined && options.key === history.lastKey && history.lastTime !== undefined && now - history.lastTime < COALESCE_MS;
  if (coalesce) return { ...history, present: next, future: [], lastTime: now };
  const past = [...history.past, history.present];
  if (past.length > HISTORY_LIMIT) past.splice(0, past.length - HISTORY_LIMIT);
  return { past, present: next, future: [], lastKey: options.key, lastTime: now };
}

/** Replaces the present without an undo step (a drag in progress, the server's normalised copy). */
export function replacePresent<T>(history: History<T>, next: T): History<T> {
  return { ...history, present: next };
}

export function undo<T>(history: History<T>): History<T> {
  if (!history.past.length) return history;
  const past = history.past.slice(0, -1);
  return { past, present: history.past[history.past.length - 1], future: [history.present, ...history.future] };
}

export function redo<T>(history: History<T>): History<T> {
  if (!history.future.length) return history;
  const [present, ...future] = history.future;
  return { past: [...history.past, history.present], present, future };
}

/** Makes one undo step of everything since `before` (a drag that replaced the present as it went). */
export function commitSince<T>(history: History<T>, before: T): History<T> {
  if (history.present === before) return history;
  const past = [...history.past, before];
  if (past.length > HISTORY_LIMIT) past.splice(0, past.length - HISTORY_LIMIT);
  return { past, present: history.present, future: [], lastKey: undefined, lastTime: undefined };
}
