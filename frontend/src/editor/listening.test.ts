import { describe, expect, it } from "vitest";
import { executionIdsOf, firstNew } from "./listening";

describe("the workflow stream, as the Listen button reads it", () => {
  it("takes a snapshot's executions as known", () => {
    expect(executionIdsOf({ type: "SNAPSHOT", executions: [{ id: "a" }, { id: "b" }] })).toEqual({ snapshot: true, ids: ["a", "b"] });
  });

  it("reads the execution of one event and of a batch", () => {
    expect(executionIdsOf({ seq: 1, type: "EXECUTION_CREATED", execution_id: "c" })).toEqual({ snapshot: false, ids: ["c"] });
    expect(executionIdsOf([{ execution_id: "a" }, { execution_id: "d" }]).ids).toEqual(["a", "d"]);
    expect(executionIdsOf("noise").ids).toEqual([]);
  });

  it("finds the first execution that was not there before", () => {
    const known = new Set(["a", "b"]);
    expect(firstNew(["a", "b"], known)).toBeNull();
    expect(firstNew(["a", "d", "e"], known)).toBe("d");
  });
});
