/**
 * Watches one execution: `/ws/executions/{id}/` (a SNAPSHOT, then events; `?after=` to resume
 * after a dropped connection). Where WebSockets are not served, it polls the REST API instead.
 */
import { useCallback, useEffect, useState } from "react";
import { api } from "../api/client";
import { EMPTY_LIVE, FINAL_EXECUTION, applyMessage, isFinished, type LiveState } from "./live";

const POLL_MS = 800;

export function socketUrl(executionId: string, after?: number): string {
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  const query = after ? `?after=${after}` : "";
  return `${scheme}://${window.location.host}/ws/executions/${executionId}/${query}`;
}

/** How the view hears about the run: over the WebSocket, or by polling the REST API where sockets are not served. */
export type Transport = "connecting" | "websocket" | "polling";

/**
 * The least time between two draws of a run with `nodes` node runs: none up to 64 of them (every
 * frame), then a quarter of a millisecond per node run, at most 250 ms: a draw of a 500-node canvas
 * takes tens of milliseconds, and drawing it on every frame of a burst would leave none for people.
 */
export function drawGap(nodes: number): number {
  return nodes <= 64 ? 0 : Math.min(250, nodes / 4);
}

export type WatchedExecution = LiveState & { error: string | null; transport: Transport; refresh: () => void };

export function useExecution(executionId: string | undefined): WatchedExecution {
  const [state, setState] = useState<LiveState>(EMPTY_LIVE);
  const [error, setError] = useState<string | null>(null);
  const [transport, setTransport] = useState<Transport>("connecting");
  // Bumped after a control (retry, resume…) to watch again from a fresh snapshot.
  const [generation, setGeneration] = useState(0);
  const refresh = useCallback(() => setGeneration((value) => value + 1), []);

  useEffect(() => {
    setError(null);
    setTransport("connecting");
    if (!executionId) return;
    let stopped = false;
    let current = EMPTY_LIVE;
    let socket: WebSocket | null = null;
    let timer: number | undefined;
    let reconnects = 0;
    // After a control (retry…), the first answers may still show the old final status.
    let patience = generation > 0 ? 6 : 0;
    // Frames may come every few milliseconds in a burst: the page draws the latest state at most once
    // per animation frame, and less often for a large run, whose every draw costs more (see drawGap).
    let drawing = 0;
    let waiting: number | undefined;
    let drawnAt = 0;
    const draw = () => {
      drawing = window.requestAnimationFrame(() => {
        drawing = 0;
        drawnAt = performance.now();
        if (!stopped) setState(current);
      });
    };
    const update = (next: LiveState) => {
      current = next;
      if (stopped || drawing || waiting !== undefined) return;
      const wait = drawnAt + drawGap(Object.keys(next.nodes).length) - performance.now();
      if (wait <= 0) draw();
      else {
        waiting = window.setTimeout(() => {
          waiting = undefined;
          draw();
        }, wait);
      }
    };

    const poll = async () => {
      if (stopped) return;
      setTransport("polling");
      try {
        const [execution, nodes] = await Promise.all([api.executions.get(executionId), api.executions.nodes(executionId)]);
        update(applyMessage(current, { type: "SNAPSHOT", execution, nodes, last_seq: execution.last_seq ?? 0 }));
        setError(null);
        if (FINAL_EXECUTION.has(execution.status as string) && patience-- <= 0) return;
      } catch (reason) {
        if (!stopped) setError(reason instanceof Error ? reason.message : String(reason));
      }
      if (!stopped) timer = window.setTimeout(() => void poll(), POLL_MS);
    };

    const connect = () => {
      let opened = false;
      try {
        socket = new WebSocket(socketUrl(executionId, current.lastSeq || undefined));
      } catch {
        void poll();
        return;
      }
      socket.onopen = () => {
        opened = true;
        if (!stopped) setTransport("websocket");
      };
      socket.onmessage = (message) => {
        try {
          update(applyMessage(current, JSON.parse(message.data as string)));
        } catch {
          // a frame that is not JSON: ignored
        }
      };
      socket.onclose = () => {
        socket = null;
        if (stopped || isFinished(current)) return;
        if (opened && reconnects < 5) {
          reconnects += 1;
          timer = window.setTimeout(connect, 500 * reconnects);
        } else void poll();
      };
    };
    connect();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
      window.cancelAnimationFrame(drawing);
      window.clearTimeout(waiting);
      socket?.close();
    };
  }, [executionId, generation]);

  return { ...state, error, transport, refresh };
}
