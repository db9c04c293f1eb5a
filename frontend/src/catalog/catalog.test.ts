import { describe, expect, it } from "vitest";
import type { NodeTypeEntry } from "../api/types";
import { catalog } from "../test/fixtures";
import { Catalog } from "./catalog";

describe("catalog", () => {
  it("groups the palette by category, triggers first", () => {
    const groups = catalog.palette();
    expect(groups.map((group) => group.category)).toEqual(["trigger", "http", "code", "logic", "data", "flow"]);
    expect(groups[0].entries.map((entry) => entry.type)).toEqual(["trigger.manual", "trigger.schedule", "trigger.webhook"]);
  });

  it("searches titles, types and descriptions", () => {
    expect(catalog.palette("http").flatMap((group) => group.entries.map((entry) => entry.type))).toContain("http.request");
    expect(catalog.palette("python").flatMap((group) => group.entries.map((entry) => entry.type))).toEqual(["code.python"]);
    expect(catalog.palette("zzz")).toEqual([]);
  });

  it("finds versions, the latest by default", () => {
    const base = catalog.latest("flow.noop")!;
    const two = new Catalog([{ ...base, latest: false }, { ...base, version: 2, latest: true } as NodeTypeEntry]);
    expect(two.get("flow.noop")!.version).toBe(2);
    expect(two.get("flow.noop", 1)!.version).toBe(1);
    expect(two.get("flow.noop", 3)).toBeUndefined();
    expect(two.palette()[0].entries).toHaveLength(1);
  });
});
