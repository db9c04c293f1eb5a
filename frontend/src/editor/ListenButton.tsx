/**
 * Listen (issue 25, item 2): waits for the next run of this workflow — a call to a webhook's test URL,
 * or a run started by another client — and opens it live on the canvas. With webhooks, the draft is
 * saved first and their test URLs go live (they run the saved draft).
 */
import { useEffect, useState, useSyncExternalStore } from "react";
import { navigate } from "../app/router";
import { isDrawableNode, nodesOf } from "../document/types";
import { Button, IconButton } from "../ui/Button";
import { toast } from "../ui/overlays";
import "../styles/revisions.css";
import { useEditorContext } from "./context";
import { listening } from "./listening";

function useNow(active: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [active]);
  return now;
}

function left(ms: number): string {
  const seconds = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
}

export function ListenButton({ small = false }: { small?: boolean }) {
  const { store, readOnly } = useEditorContext();
  const state = useSyncExternalStore(listening.subscribe, listening.get);
  const workflowId = String(store.getState().workflow.id);
  const active = state.workflowId === workflowId && state.until !== null;
  const now = useNow(active);
  const [starting, setStarting] = useState(false);
  // Leaving the workflow's page ends its listening (the header's button lives as long as the page).
  useEffect(() => {
    if (small) return;
    return () => {
      if (listening.get().workflowId === workflowId) listening.stop();
    };
  }, [small, workflowId]);

  useEffect(() => {
    if (state.error) toast(`Not listening: ${state.error}`, "error");
  }, [state.error]);

  const start = async () => {
    setStarting(true);
    try {
      const withWebhooks = nodesOf(store.doc).some((node) => isDrawableNode(node) && node.type === "trigger.webhook");
      // The test URL runs the saved draft: what is on the canvas must be saved first.
      if (withWebhooks && !readOnly && !(await store.save())) return;
      await listening.start(workflowId, withWebhooks, (executionId) => {
        toast("A run started: showing it live.");
        void navigate({ name: "execution", workflowId, executionId });
      });
      if (listening.get().until !== null) {
        toast(withWebhooks ? "Listening: call the test URL, or start a run from elsewhere." : "Listening: start a run from elsewhere (API, another tab).");
      }
    } finally {
      setStarting(false);
    }
  };

  if (active) {
    return (
      <span className="nf-listen" role="status" aria-label="Listening for a run">
        <span className="nf-listen-dot" aria-hidden="true" />
        <span className="nf-listen-text" title="Listening for the next run of this workflow">{small ? "Listening… " : ""}{left((state.until ?? now) - now)}</span>
        {small ? (
          <Button size="small" onClick={() => listening.stop()}>Stop listening</Button>
        ) : (
          <IconButton icon="x" label="Stop listening" onClick={() => listening.stop()} />
        )}
      </span>
    );
  }
  return (
    <Button icon="hook" onClick={() => void start()} disabled={starting} size={small ? "small" : undefined}
      title="Wait for the next run of this workflow (a call to a webhook's test URL, or a run started elsewhere) and show it live">
      {starting ? "Starting…" : "Listen"}
    </Button>
  );
}
