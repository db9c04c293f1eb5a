/** What the editor's components share: its store, the catalog, and the actions several of them offer. */
import { createContext, useContext, useSyncExternalStore } from "react";
import type { Catalog } from "../catalog/catalog";
import type { EditorState, EditorStore } from "./store";

export interface EditorActions {
  deleteSelection(): void;
  duplicateSelection(): void;
  /** Adds a node of `type` at a canvas position (the visible centre when omitted) and selects it; `scope`: into that body. */
  addNode(type: string, position?: [number, number], scope?: readonly string[]): void;
  focusNode(id: string): void;
}

export interface EditorContextValue {
  store: EditorStore;
  catalog: Catalog;
  actions: EditorActions;
  /** The execution view: the canvas draws what ran and nothing on it edits the draft. */
  readOnly: boolean;
}

export const EditorContext = createContext<EditorContextValue | null>(null);

export function useEditorContext(): EditorContextValue {
  const value = useContext(EditorContext);
  if (!value) throw new Error("useEditorContext outside the editor");
  return value;
}

/** A piece of the editor's state; the component re-renders when it changes (select stable values). */
export function useEditorState<T>(select: (state: EditorState) => T): T {
  const { store } = useEditorContext();
  return useSyncExternalStore(store.subscribe, () => select(store.getState()));
}
