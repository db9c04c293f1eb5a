import { describe, expect, it } from "vitest";
import { fieldMessages, formFits, serverInputProblems, validateValue } from "./validate";

const SCHEMA = {
  type: "object",
  required: ["name", "age"],
  additionalProperties: false,
  properties: {
    name: { type: "string", minLength: 1, maxLength: 10 },
    age: { type: "integer", minimum: 0, maximum: 150 },
    plan: { enum: ["free", "pro"] },
    email: { type: "string", pattern: "^[^@]+@[^@]+$" },
    tags: { type: "array", items: { type: "string" }, maxItems: 2 },
    address: { type: "object", required: ["city"], properties: { city: { type: "string" } } },
  },
};

describe("a run's input against the input_schema", () => {
  it("accepts a good input", () => {
    expect(validateValue(SCHEMA, { name: "Ada", age: 36, plan: "pro", email: "ada@example.com", tags: ["a"], address: { city: "London" } })).toEqual([]);
  });

  it("names the field of each problem", () => {
    const problems = validateValue(SCHEMA, { name: "", age: 3.5, plan: "gold", email: "nope", tags: ["a", 2, "c"], address: {}, extra: 1 });
    expect(problems).toEqual([
      { path: "name", message: "Must not be empty." },
      { path: "age", message: "Must be a whole number." },
      { path: "plan", message: "Must be one of: free, pro." },
      { path: "email", message: "Must match ^[^@]+@[^@]+$." },
      { path: "tags", message: "Takes at most 2 items." },
      { path: "tags.1", message: "Must be a text." },
      { path: "address.city", message: "Required." },
      { path: "extra", message: "Not expected here." },
    ]);
    expect(validateValue(SCHEMA, {})).toEqual([{ path: "name", message: "Required." }, { path: "age", message: "Required." }]);
    expect(validateValue(SCHEMA, [])).toEqual([{ path: "", message: "Must be an object." }]);
    expect(validateValue({ type: "number", exclusiveMinimum: 0 }, 0)).toEqual([{ path: "", message: "Must be more than 0." }]);
    expect(validateValue({ type: ["string", "null"] }, null)).toEqual([]);
    expect(validateValue({ enum: [{ a: 1, b: [2] }] }, { b: [2], a: 1 })).toEqual([]);
    expect(validateValue({ enum: [1] }, true)).toEqual([{ path: "", message: "Must be one of: 1." }]);
  });

  it("leaves keywords it does not know to the server", () => {
    expect(validateValue({ anyOf: [{ type: "string" }], $ref: "#/x", format: "email" }, 3)).toEqual([]);
    expect(validateValue({ type: "string", pattern: "(?<" }, "x")).toEqual([]);
  });

  it("places the server's invalid_input message on fields", () => {
    const problems = serverInputProblems("input at age: 'x' is not of type 'integer'; input at (root): 'name' is a required property; input at address/city: 3 is not of type 'string'");
    expect(problems).toEqual([
      { path: "age", message: "'x' is not of type 'integer'." },
      { path: "name", message: "Required." },
      { path: "address.city", message: "3 is not of type 'string'." },
    ]);
    expect(serverInputProblems("something else")).toEqual([{ path: "", message: "something else" }]);
    const lookup = fieldMessages(problems);
    expect(lookup("age", false)).toEqual(["'x' is not of type 'integer'."]);
    expect(lookup("address", false)).toBeUndefined();
    expect(lookup("address", true)).toEqual(["3 is not of type 'string'."]);
  });

  it("offers a form only for an object with named fields", () => {
    expect(formFits(SCHEMA)).toBe(true);
    expect(formFits({ properties: { a: {} } })).toBe(true);
    expect(formFits({ type: "array" })).toBe(false);
    expect(formFits({ type: "object" })).toBe(false);
    expect(formFits(undefined)).toBe(false);
  });
});

describe("the Run dialog's starting input", () => {
  it("takes defaults, fills required fields with an empty value of their type and leaves the rest out", async () => {
    const { initialInput } = await import("./validate");
    expect(initialInput({
      type: "object",
      required: ["name", "count", "kind", "flags"],
      properties: { name: { type: "string" }, count: { type: "integer" }, kind: { enum: ["a", "b"] }, flags: { type: "array" },
        note: { type: "string" }, level: { type: "number", default: 3 } },
    })).toEqual({ name: "", count: 0, flags: [], level: 3 });
    expect(initialInput(undefined)).toEqual({});
  });
});
