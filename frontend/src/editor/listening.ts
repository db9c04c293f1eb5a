/**
 * Listening for the next run of a workflow (issue 25, item 2): a call to a webhook's test URL, or a
 * run started by another client. The workflow's stream (`/ws/workflows/{id}/`: a SNAPSHOT of recent
 * executions, then every event of every execution) tells which execution is new; where WebSockets
 * are not served, the executions list is polled instead. One listener at a time, shared by every
 * Listen button on the page.
 */
import { api } from "../api/client";

const POLL_MS = 1000;
/** How long a listener without webhooks waits for a run from elsewhere (webhooks: the server's window). */
export const WATCH_MS = 120_000;

/** The ids of the executions a workflow-stream message is about (a SNAPSHOT, one event, or a batch of them). */
export function executionIdsOf(message: unknown): { snapshot: boolean; ids: string[] } {
  if (Array.isArray(message)) return { snapshot: false, ids: message.flatMap((item) => executionIdsOf(item).ids) };
  if (typeof message !== "object" || message === null) return { snapshot: false, ids: [] };
  const record = message as Record<string, unknown>;
  if (record.type === "SNAPSHOT" && Array.isArray(record.executions)) {
    return { snapshot: true, ids: record.executions.map((execution) => String((execution as { id?: unknown }).id)) };
  }
  return { snapshot: false, ids: typeof record.execution_id === "string" ? [record.execution_id] : [] };
}

/** The first execution id that is not known yet (null: none). */
export function firstNew(ids: readonly string[], known: ReadonlySet<string>): string | null {
  return ids.find((id) => !known.has(id)) ?? null;
}

export interface ListenState {
  workflowId: string | null;
  /** Until when (ms since the epoch); null when not listening. */
  until: number | null;
  /** The webhooks' test URLs that now run the draft. */
  testUrls: string[];
  error: string | null;
}

const IDLE: ListenState = { workflowId: null, until: null, testUrls: [], error: null };
let state: ListenState = IDLE;
const listeners = new Set<() => void>();
let stopCurrent: (() => void) | null = null;

function set(next: ListenState) {
  state = next;
  listeners.forEach((listener) => listener());
}

export const listening = {
  get: (): ListenState => state,
  subscribe(listener: () => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
  stop() {
    stopCurrent?.();
    stopCurrent = null;
    set(IDLE);
  },
  /**
   * Listens for the next execution of the workflow and calls `found` with it (once). With webhooks,
   * their test URLs are made live first (they run the saved draft). The watch starts before the
   * URLs go live, so that no call made right after can be missed.
   */
  async start(workflowId: string, withWebhooks: boolean, found: (executionId: string) => void): Promise<void> {
    listening.stop();
    let done = false;
    let known: Set<string> | null = null;
    let socket: WebSocket | null = null;
    let poll: ReturnType<typeof setInterval> | null = null;
    let expiry: ReturnType<typeof setTimeout> | null = null;
    const close = () => {
      done = true;
      socket?.close();
      if (poll) clearInterval(poll);
      if (expiry) clearTimeout(expiry);
    };
    stopCurrent = close;
    const seen = (ids: string[], snapshot: boolean) => {
      if (done) return;
      if (snapshot || known === null) {
        known = new Set([...(known ?? []), ...ids]);
        return;
      }
      const fresh = firstNew(ids, known);
      if (fresh) {
        listening.stop();
        found(fresh);
      }
    };
    const startPolling = () => {
      if (done || poll) return;
      const once = () =>
        api.executions.list({ workflow: workflowId, limit: 10 }).then(
          (page) => seen(page.results.map((execution) => String(execution.id)), known === null),
          () => undefined,
        );
      void once();
      poll = setInterval(once, POLL_MS);
    };
    await new Promise<void>((ready) => {
      const scheme = window.location.protocol === "https:" ? "wss" : "ws";
      try {
        socket = new WebSocket(`${scheme}://${window.location.host}/ws/workflows/${workflowId}/`);
      } catch {
        startPolling();
        ready();
        return;
      }
      socket.onmessage = (event) => {
        let message: unknown = null;
        try {
          message = JSON.parse(String(event.data));
        } catch {
          return;
        }
        const { snapshot, ids } = executionIdsOf(message);
        seen(ids, snapshot);
        if (snapshot) ready();
      };
      // No socket (a server without WebSockets), or it dropped: the list tells the same, a little later.
      socket.onerror = () => {
        startPolling();
        ready();
      };
      socket.onclose = () => {
        if (!done) startPolling();
        ready();
      };
    });
    if (done) return;
    let until = Date.now() + WATCH_MS;
    let testUrls: string[] = [];
    if (withWebhooks) {
      try {
        const answer = await api.workflows.listen(workflowId);
        until = Date.parse(answer.listening_until);
        testUrls = answer.triggers.map((trigger) => trigger.test_url).filter((url): url is string => Boolean(url));
      } catch (error) {
        close();
        set({ ...IDLE, error: error instanceof Error ? error.message : String(error) });
        return;
      }
    }
    if (done) return;
    expiry = setTimeout(() => listening.stop(), Math.max(0, until - Date.now()));
    set({ workflowId, until, testUrls, error: null });
  },
};
