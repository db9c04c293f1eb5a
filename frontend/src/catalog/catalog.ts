/** The node-type catalog (GET /api/v1/node-types/), indexed for the palette, the canvas and the forms. */
import type { NodeTypeEntry } from "../api/types";

export type { NodeTypeEntry };

/** Categories in palette order; a category the server adds later goes at the end. */
export const CATEGORY_ORDER = ["trigger", "http", "code", "logic", "data", "flow"];

export const CATEGORY_TITLES: Record<string, string> = {
  trigger: "Triggers",
  http: "HTTP",
  code: "Code",
  logic: "Logic",
  data: "Data",
  flow: "Flow",
  custom: "Custom",
};

export class Catalog {
  readonly entries: NodeTypeEntry[];
  private readonly byKey = new Map<string, NodeTypeEntry>();
  private readonly latestByType = new Map<string, NodeTypeEntry>();

  constructor(entries: NodeTypeEntry[]) {
    this.entries = entries;
    for (const entry of entries) {
      this.byKey.set(`${entry.type}@${entry.version}`, entry);
      const latest = this.latestByType.get(entry.type);
      if (entry.latest || !latest || (!latest.latest && latest.version < entry.version)) {
        this.latestByType.set(entry.type, entry);
      }
    }
  }

  /** The entry of a node's type at its version (the latest when the node names none); undefined when unknown. */
  get(type: string, version?: number | null): NodeTypeEntry | undefined {
    if (version == null) return this.latestByType.get(type);
    return this.byKey.get(`${type}@${version}`);
  }

  latest(type: string): NodeTypeEntry | undefined {
    return this.latestByType.get(type);
  }

  /** The latest version of each type, grouped by category in palette order, filtered by a search text. */
  palette(search = ""): { category: string; title: string; entries: NodeTypeEntry[] }[] {
    const words = search.toLowerCase().split(/\s+/).filter(Boolean);
    const groups = new Map<string, NodeTypeEntry[]>();
    for (const entry of this.latestByType.values()) {
      const haystack = `${entry.title} ${entry.type} ${entry.category} ${entry.description}`.toLowerCase();
      if (!words.every((word) => haystack.includes(word))) continue;
      const list = groups.get(entry.category) ?? [];
      list.push(entry);
      groups.set(entry.category, list);
    }
    const rank = (category: string) => {
      const index = CATEGORY_ORDER.indexOf(category);
      return index === -1 ? CATEGORY_ORDER.length : index;
    };
    return [...groups.entries()]
      .sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b))
      .map(([category, entries]) => ({
        category,
        title: categoryTitle(category),
        entries: entries.sort((a, b) => Number(b.trigger) - Number(a.trigger) || a.title.localeCompare(b.title)),
      }));
  }
}

export function categoryTitle(category: string): string {
  return CATEGORY_TITLES[category] ?? category.charAt(0).toUpperCase() + category.slice(1);
}
