/** What the Variable changed trigger's panel says: which of the owner's keys its key or prefix matches. */
import { Link } from "../app/router";
import { useGlobalKeys } from "./useGlobalKeys";
import { matchingKeys } from "./values";

export function VariableTriggerInfo({ pattern, published }: { pattern: string; published: boolean }) {
  const keys = useGlobalKeys();
  const matched = matchingKeys(pattern, keys);
  return (
    <section className="nf-trigger-info" aria-label="Watched variables">
      <div className="nf-url-label">Watched variables</div>
      <p className="nf-small">
        {pattern
          ? matched.length
            ? `Matches ${matched.length} existing key${matched.length === 1 ? "" : "s"}: ${matched.slice(0, 8).join(", ")}${matched.length > 8 ? ", …" : ""}.`
            : `No key matches “${pattern}” yet; the first write of one starts a run.`
          : "Enter a key, or a prefix ending in * (order_*), or * for every key."}
      </p>
      <p className="nf-field-help">
        {published ? "Each change starts one run of the published version" : "Starts runs once the workflow is published"}: once per change,
        never for a write that leaves the value equal; its input is {"{key, old, new, execution_id, node_id}"}.
        {" "}<Link to={{ name: "variables" }}>Open Variables</Link>
      </p>
    </section>
  );
}
