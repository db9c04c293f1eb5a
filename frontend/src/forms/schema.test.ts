import { describe, expect, it } from "vitest";
import { catalog } from "../test/fixtures";
import { labelOf, parseJson, textToValue, valueToText, widgetFor, type JsonSchema } from "./schema";

function widgets(type: string): Record<string, string> {
  const schema = catalog.latest(type)!.params_schema as JsonSchema;
  return Object.fromEntries(Object.entries(schema.properties as Record<string, JsonSchema>).map(([name, prop]) => [name, widgetFor(prop)]));
}

describe("widgets for the catalog's params", () => {
  it("picks a widget for every http.request param", () => {
    expect(widgets("http.request")).toEqual({
      method: "select", url: "text", query: "keyvalue", headers: "keyvalue", body: "any", body_type: "select",
      timeout_s: "number", follow_redirects: "boolean", response: "select", fail_on_status: "boolean", credential: "text",
    });
  });

  it("uses the code editor, JsonLogic, lists and nested objects where the schema says so", () => {
    expect(widgets("code.python")).toEqual({ code: "python", limits: "object" });
    expect(widgets("logic.if")).toEqual({ condition: "jsonlogic" });
    expect(widgets("logic.switch")).toEqual({ cases: "objectlist" });
    expect(widgets("trigger.webhook").methods).toBe("multiselect");
    expect(widgets("flow.terminal")).toEqual({ result: "any", artifacts: "stringlist" });
    expect(widgets("trigger.schedule").every).toBe("integer");
    expect(widgetFor({ type: "object", properties: {}, additionalProperties: false })).toBe("json");
  });

  it("labels fields", () => {
    expect(labelOf("timeout_s", {})).toBe("Timeout (s)");
    expect(labelOf("max_body_kb", {})).toBe("Max body (KB)");
    expect(labelOf("on_error", {})).toBe("On error");
    expect(labelOf("url", { title: "URL" })).toBe("URL");
  });

  it("converts key/value texts", () => {
    expect(valueToText(3)).toBe("3");
    expect(textToValue("4", 3)).toBe(4);
    expect(textToValue("4", "3")).toBe("4");
    expect(textToValue("{oops", 3)).toBe("{oops");
    expect(parseJson("{")).toMatchObject({ ok: false });
    expect(parseJson(" ")).toEqual({ ok: true, value: undefined });
  });
});
