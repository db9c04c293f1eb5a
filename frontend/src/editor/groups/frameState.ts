/**
 * Which frames are collapsed on a canvas: the editor's view, not the document's content, kept per
 * workflow in the browser's storage so a frame stays as it was left across reloads.
 */
import { createContext, useCallback, useContext, useState } from "react";

export interface FrameToggles {
  collapsed: ReadonlySet<string>;
  toggle(canvasId: string): void;
}

export const FrameContext = createContext<FrameToggles>({ collapsed: new Set(), toggle: () => undefined });

export function useFrameToggles(): FrameToggles {
  return useContext(FrameContext);
}

function storageKey(workflowId: string): string {
  return `nodeflow:collapsed:${workflowId}`;
}

/** The frames of a workflow collapsed in this browser (canvas ids). */
export function readCollapsed(workflowId: string): Set<string> {
  try {
    const stored = JSON.parse(window.localStorage.getItem(storageKey(workflowId)) ?? "[]");
    return new Set(Array.isArray(stored) ? stored.filter((id): id is string => typeof id === "string") : []);
  } catch {
    return new Set();
  }
}

/** The collapsed frames of one workflow's canvas and a toggle that remembers them. */
export function useCollapsedFrames(workflowId: string): FrameToggles {
  const [collapsed, setCollapsed] = useState<ReadonlySet<string>>(() => readCollapsed(workflowId));
  const toggle = useCallback(
    (canvasId: string) =>
      setCollapsed((current) => {
        const next = new Set(current);
        if (next.has(canvasId)) next.delete(canvasId);
        else next.add(canvasId);
        try {
          window.localStorage.setItem(storageKey(workflowId), JSON.stringify([...next]));
        } catch {
          // Storage full or refused: the frame still toggles for this page.
        }
        return next;
      }),
    [workflowId],
  );
  return { collapsed, toggle };
}
