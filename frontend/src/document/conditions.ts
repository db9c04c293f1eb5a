/**
 * The condition builder's model (issue 25, item 9 of the list): rules (field, operator, value) in
 * and/or groups, to and from JsonLogic. `parseCondition` returns null for JsonLogic the builder
 * cannot show (the raw tab edits those), so that a round trip never changes a condition. Pure.
 */

export type Scalar = string | number | boolean | null;

export type Operator = "==" | "!=" | ">" | ">=" | "<" | "<=" | "contains" | "empty" | "not_empty";

export const OPERATORS: { value: Operator; label: string; takesValue: boolean }[] = [
  { value: "==", label: "equals", takesValue: true },
  { value: "!=", label: "does not equal", takesValue: true },
  { value: ">", label: "is greater than", takesValue: true },
  { value: ">=", label: "is at least", takesValue: true },
  { value: "<", label: "is less than", takesValue: true },
  { value: "<=", label: "is at most", takesValue: true },
  { value: "contains", label: "contains", takesValue: true },
  { value: "empty", label: "is empty", takesValue: false },
  { value: "not_empty", label: "is not empty", takesValue: false },
];

export interface Rule {
  kind: "rule";
  field: string;
  operator: Operator;
  value: Scalar;
}

export interface Group {
  kind: "group";
  join: "and" | "or";
  items: (Rule | Group)[];
}

const COMPARISONS = new Set(["==", "!=", ">", ">=", "<", "<="]);

function isScalar(value: unknown): value is Scalar {
  return value === null || ["string", "number", "boolean"].includes(typeof value);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The path of `{"var": "a.b"}` (null for anything else, a default value included). */
function varPath(value: unknown): string | null {
  if (!isObject(value) || Object.keys(value).length !== 1) return null;
  return typeof value.var === "string" ? value.var : null;
}

function parseItem(logic: unknown): Rule | Group | null {
  if (!isObject(logic) || Object.keys(logic).length !== 1) return null;
  const [operator, args] = Object.entries(logic)[0];
  if ((operator === "and" || operator === "or") && Array.isArray(args)) {
    const items = args.map(parseItem);
    return items.every((item): item is Rule | Group => item !== null) ? { kind: "group", join: operator, items } : null;
  }
  if (COMPARISONS.has(operator) && Array.isArray(args) && args.length === 2) {
    const field = varPath(args[0]);
    return field !== null && isScalar(args[1]) ? { kind: "rule", field, operator: operator as Operator, value: args[1] } : null;
  }
  if (operator === "in" && Array.isArray(args) && args.length === 2) {
    const field = varPath(args[1]);
    return field !== null && isScalar(args[0]) ? { kind: "rule", field, operator: "contains", value: args[0] } : null;
  }
  if (operator === "!" || operator === "!!") {
    const field = varPath(Array.isArray(args) && args.length === 1 ? args[0] : args);
    return field !== null ? { kind: "rule", field, operator: operator === "!" ? "empty" : "not_empty", value: null } : null;
  }
  return null;
}

/** The builder's view of a condition: always a group at the top (one rule: a group of one). Null: raw JsonLogic only. */
export function parseCondition(logic: unknown): Group | null {
  if (logic === undefined || logic === null || (isObject(logic) && Object.keys(logic).length === 0)) {
    return { kind: "group", join: "and", items: [] };
  }
  const item = parseItem(logic);
  if (!item) return null;
  return item.kind === "group" ? item : { kind: "group", join: "and", items: [item] };
}

function ruleLogic(rule: Rule): unknown {
  const read = { var: rule.field };
  switch (rule.operator) {
    case "contains":
      return { in: [rule.value, read] };
    case "empty":
      return { "!": read };
    case "not_empty":
      return { "!!": read };
    default:
      return { [rule.operator]: [read, rule.value] };
  }
}

function itemLogic(item: Rule | Group): unknown {
  return item.kind === "rule" ? ruleLogic(item) : { [item.join]: item.items.map(itemLogic) };
}

/** JsonLogic for the builder's group: a single rule stands alone; an empty group is no condition (undefined). */
export function toJsonLogic(group: Group): unknown {
  if (!group.items.length) return undefined;
  if (group.items.length === 1 && group.items[0].kind === "rule") return ruleLogic(group.items[0]);
  return itemLogic(group);
}

/** What a value input shows: strings as typed, unless they would read as another type (then quoted). */
export function showValue(value: Scalar): string {
  if (typeof value === "string") return readValue(value) === value ? value : JSON.stringify(value);
  return JSON.stringify(value);
}

/** A value input's text as a value: numbers, true/false/null, a quoted string as that string, else the text. */
export function readValue(text: string): Scalar {
  const trimmed = text.trim();
  if (trimmed !== "" && !Number.isNaN(Number(trimmed)) && /^-?\d/.test(trimmed)) return Number(trimmed);
  if (trimmed === "true") return true;
  if (trimmed === "false") return false;
  if (trimmed === "null") return null;
  if (/^".*"$/s.test(trimmed)) {
    try {
      const parsed: unknown = JSON.parse(trimmed);
      if (typeof parsed === "string") return parsed;
    } catch {
      // not a JSON string: the text as it is
    }
  }
  return text;
}
