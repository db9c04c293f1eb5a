/**
 * A JsonLogic condition (logic.if, logic.switch cases) edited with a builder — field, operator, value
 * in and/or groups, the fields suggested from the paths the node may read and the last run — or as
 * raw JsonLogic for what the builder cannot show (issue 25, item 9 of the list).
 */
import { useId, useMemo, useState, useSyncExternalStore } from "react";
import { OPERATORS, parseCondition, readValue, showValue, toJsonLogic, type Group, type Operator, type Rule } from "../document/conditions";
import { withRunPaths } from "../document/samples";
import { runSamples } from "../executions/samples";
import { Button, IconButton } from "../ui/Button";
import { JsonField } from "./JsonField";
import "../styles/conditions.css";

type Item = Rule | Group;

const NEW_RULE: Rule = { kind: "rule", field: "", operator: "==", value: "" };

function RuleRow({ rule, onChange, onRemove, listId }: { rule: Rule; onChange: (rule: Rule) => void; onRemove: () => void; listId: string }) {
  const takesValue = OPERATORS.find((item) => item.value === rule.operator)?.takesValue ?? true;
  // The value's text is kept while typing ("1." or a lone quote would not survive a round trip through the value).
  const [text, setText] = useState(() => showValue(rule.value));
  return (
    <div className="nf-cond-rule" role="group" aria-label="Condition">
      <input className="nf-input nf-mono" aria-label="Field" placeholder="input.kind" list={listId} value={rule.field} spellCheck={false}
        onChange={(event) => onChange({ ...rule, field: event.target.value.replace(/^\{\{\s*|\s*\}\}$/g, "") })} />
      <select className="nf-input" aria-label="Operator" value={rule.operator}
        onChange={(event) => onChange({ ...rule, operator: event.target.value as Operator, value: OPERATORS.find((item) => item.value === event.target.value)?.takesValue ? rule.value : null })}>
        {OPERATORS.map((item) => <option key={item.value} value={item.value}>{item.label}</option>)}
      </select>
      {takesValue ? (
        <input className="nf-input" aria-label="Value" value={text} placeholder="value" spellCheck={false}
          onChange={(event) => {
            setText(event.target.value);
            onChange({ ...rule, value: readValue(event.target.value) });
          }} />
      ) : <span />}
      <IconButton icon="x" label="Remove condition" onClick={onRemove} />
    </div>
  );
}

function GroupBox({ group, onChange, onRemove, listId, depth }: { group: Group; onChange: (group: Group) => void; onRemove?: () => void; listId: string; depth: number }) {
  const setItem = (index: number, item: Item | null) =>
    onChange({ ...group, items: item === null ? group.items.filter((_, i) => i !== index) : group.items.map((old, i) => (i === index ? item : old)) });
  return (
    <div className={`nf-cond-group ${depth ? "nf-cond-group--nested" : ""}`} role="group" aria-label={depth ? "Group" : "Conditions"}>
      <div className="nf-cond-head">
        <span>Match</span>
        <select className="nf-input" aria-label="Match" value={group.join} onChange={(event) => onChange({ ...group, join: event.target.value as Group["join"] })}>
          <option value="and">all of (and)</option>
          <option value="or">any of (or)</option>
        </select>
        {onRemove && <IconButton icon="x" label="Remove group" onClick={onRemove} />}
      </div>
      {group.items.map((item, index) =>
        item.kind === "rule" ? (
          <RuleRow key={index} rule={item} listId={listId} onChange={(next) => setItem(index, next)} onRemove={() => setItem(index, null)} />
        ) : (
          <GroupBox key={index} group={item} listId={listId} depth={depth + 1} onChange={(next) => setItem(index, next)} onRemove={() => setItem(index, null)} />
        ),
      )}
      <div className="nf-cond-actions">
        <Button size="small" icon="plus" onClick={() => onChange({ ...group, items: [...group.items, NEW_RULE] })}>Add condition</Button>
        {depth < 3 && (
          <Button size="small" onClick={() => onChange({ ...group, items: [...group.items, { kind: "group", join: group.join === "and" ? "or" : "and", items: [NEW_RULE] }] })}>Add group</Button>
        )}
      </div>
    </div>
  );
}

export function ConditionField({ id, value, onChange, paths }: { id?: string; value: unknown; onChange: (value: unknown) => void; paths: readonly string[] }) {
  const parsed = useMemo(() => parseCondition(value), [value]);
  const [tab, setTab] = useState<"builder" | "raw">(() => (parsed ? "builder" : "raw"));
  const samples = useSyncExternalStore(runSamples.subscribe, runSamples.get);
  const fields = useMemo(() => withRunPaths(paths, samples).paths, [paths, samples]);
  const listId = useId();
  const showing = parsed ? tab : "raw";
  return (
    <div className="nf-cond" id={id}>
      <div className="nf-cond-tabs" role="tablist" aria-label="Condition editor">
        <button type="button" role="tab" aria-selected={showing === "builder"} disabled={!parsed} onClick={() => setTab("builder")}
          title={parsed ? undefined : "This condition uses JsonLogic the builder cannot show"}>Builder</button>
        <button type="button" role="tab" aria-selected={showing === "raw"} onClick={() => setTab("raw")}>JsonLogic</button>
      </div>
      {showing === "builder" && parsed ? (
        <GroupBox group={parsed} listId={listId} depth={0} onChange={(group) => onChange(toJsonLogic(group))} />
      ) : (
        <>
          {!parsed && <p className="nf-field-help">The builder cannot show this condition; edit its JsonLogic here.</p>}
          <JsonField value={value} onChange={onChange} placeholder='{"==": [{"var": "input.kind"}, "signup"]}' ariaLabel="JsonLogic" />
        </>
      )}
      <datalist id={listId}>{fields.map((path) => <option key={path} value={path} />)}</datalist>
    </div>
  );
}
