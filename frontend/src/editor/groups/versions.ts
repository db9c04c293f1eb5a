/** A sub-workflow's `version` param and the choice that shows it. */
/** A version param as the select shows it: "published", "draft" or a number as text. */
export function versionChoice(value: unknown): string {
  if (typeof value === "number") return String(value);
  return value === "draft" ? "draft" : "published";
}

export function versionValue(choice: string): string | number {
  return choice === "published" || choice === "draft" ? choice : Number(choice);
}
