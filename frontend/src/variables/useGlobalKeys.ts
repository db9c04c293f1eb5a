/** The owner's global variable keys, for the editor's `globals.` suggestions: asked again at most every 30 s. */
import { useEffect, useState } from "react";
import { variablesApi } from "./api";

const FRESH_MS = 30_000;
let loaded: Promise<string[]> | null = null;
let loadedAt = 0;

function loadKeys(): Promise<string[]> {
  if (Date.now() - loadedAt > FRESH_MS) loaded = null;
  // A failure only means no suggestions: it is not shown, and the next panel opened tries again.
  loadedAt = loaded ? loadedAt : Date.now();
  loaded ??= variablesApi.list({ limit: 1000 }).then((page) => page.results.map((variable) => variable.key)).catch(() => {
    loaded = null;
    return [];
  });
  return loaded;
}

export function useGlobalKeys(): string[] {
  const [keys, setKeys] = useState<string[]>([]);
  useEffect(() => {
    let live = true;
    void loadKeys().then((found) => live && setKeys(found));
    return () => {
      live = false;
    };
  }, []);
  return keys;
}
