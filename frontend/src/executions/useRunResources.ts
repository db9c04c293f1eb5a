/** An execution's resource totals (GET /executions/{id}/ `resources`), fetched again when its status changes. */
import { useEffect, useState } from "react";
import { api } from "../api/client";

export function useRunResources(executionId: string, status: string): unknown {
  const [resources, setResources] = useState<unknown>(null);
  useEffect(() => {
    let current = true;
    api.executions.get(executionId).then(
      (execution) => current && setResources((execution as { resources?: unknown }).resources ?? null),
      () => undefined,
    );
    return () => {
      current = false;
    };
  }, [executionId, status]);
  return resources;
}
