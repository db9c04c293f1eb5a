import { describe, expect, it } from "vitest";
import { COALESCE_MS, HISTORY_LIMIT, commitSince, historyOf, pushHistory, redo, replacePresent, undo } from "./history";

describe("history", () => {
  it("undoes and redoes every edit", () => {
    let h = historyOf("a");
    h = pushHistory(h, "b");
    h = pushHistory(h, "c");
    h = undo(h);
    expect(h.present).toBe("b");
    h = undo(h);
    expect(h.present).toBe("a");
    expect(undo(h)).toBe(h);
    h = redo(redo(h));
    expect(h.present).toBe("c");
    expect(redo(h)).toBe(h);
  });

  it("drops the redo branch on a new edit", () => {
    const h = pushHistory(undo(pushHistory(historyOf(1), 2)), 3);
    expect(h.future).toEqual([]);
    expect(h.past).toEqual([1]);
  });

  it("merges quick edits with the same key into one step", () => {
    let h = pushHistory(historyOf("u"), "ur", { key: "url", now: 0 });
    h = pushHistory(h, "url", { key: "url", now: 100 });
    expect(undo(h).present).toBe("u");
    h = pushHistory(h, "url2", { key: "url", now: 100 + COALESCE_MS + 1 });
    expect(undo(h).present).toBe("url");
    h = pushHistory(h, "x", { key: "other", now: 100 + COALESCE_MS + 2 });
    expect(undo(h).present).toBe("url2");
  });

  it("makes a drag one step", () => {
    let h = historyOf("start");
    h = replacePresent(h, "moving");
    h = replacePresent(h, "moved");
    h = commitSince(h, "start");
    expect(h.present).toBe("moved");
    expect(undo(h).present).toBe("start");
  });

  it("keeps at most HISTORY_LIMIT steps", () => {
    let h = historyOf(0);
    for (let i = 1; i <= HISTORY_LIMIT + 10; i++) h = pushHistory(h, i);
    expect(h.past).toHaveLength(HISTORY_LIMIT);
    expect(h.past[0]).toBe(10);
  });
});
