"""Switch (v1–v2 rules on one value, v3 rules as filters; fallback output) → logic.switch."""

import re

from importers.n8n.conditions import filter_condition, legacy_rule
from importers.n8n.nodes import NotTranslated, Translation, option

N8N_TYPES = ("n8n-nodes-base.switch",)
VERSIONS = (1, 3.2)


def _case_name(text, taken):
    base = re.sub(r"[^a-z0-9_]+", "_", str(text).lower()).strip("_") or "case"
    if base in ("default", "error", "main") or not base[0].isalpha():
        base = f"case_{base}"
    name, counter = base, 2
    while name in taken:
        name, counter = f"{base}_{counter}", counter + 1
    taken.add(name)
    return name


def passes_items_through(node):
    return True


def translate(node, ctx):
    params = node.get("parameters") or {}
    if params.get("mode", "rules") != "rules":
        raise NotTranslated("a Switch in expression mode (the output index is computed by JavaScript)")
    cases, outputs, taken, notes = [], [], set(), []
    if ctx.type_version >= 3:
        rules = option(params, "rules", "values", default=[]) or []
        for index, rule in enumerate(rules):
            label = rule.get("outputKey") if rule.get("renameOutput") else f"output_{index}"
            name = _case_name(label, taken)
            cases.append({"name": name, "condition": filter_condition(ctx, rule.get("conditions"),
                                                                       f"rules.values[{index}].conditions")})
            outputs.append([name])
        options = params.get("options") or {}
        fallback = options.get("fallbackOutput", "none")
        if options.get("allMatchingOutputs"):
            notes.append("'send data to all matching outputs': here the first matching case wins")
    else:
        data_type = params.get("dataType", "number")
        count = 4 if ctx.type_version < 2 else int(params.get("outputsAmount", 4) or 4)
        by_output = {}
        for index, rule in enumerate(option(params, "rules", "rules", default=[]) or []):
            # v1 rules name their output; from v2 on, rule i sends to output i.
            output = int(rule.get("output", 0 if ctx.type_version < 2 else index) or 0)
            count = max(count, output + 1)
            name = _case_name(f"output_{output}", taken)
            cases.append({"name": name, "condition": legacy_rule(ctx, data_type, rule.get("operation", "equal"),
                                                                 params.get("value1", ""), rule.get("value2", ""),
                                                                 f"rules.rules[{index}]")})
            by_output.setdefault(output, []).append(name)
        outputs = [by_output.get(index, []) for index in range(count)]
        fallback = params.get("fallbackOutput", -1)
        fallback = "none" if fallback in (-1, "-1", None) else fallback
    if fallback == "extra":
        outputs.append(["default"])
    elif fallback != "none":
        index = int(fallback)
        if index < len(outputs):
            outputs[index] = outputs[index] + ["default"]
        notes.append(f"the fallback goes to output {index}'s nodes through the `default` port")
    if not cases:
        raise NotTranslated("a Switch without rules")
    return Translation("logic.switch", {"cases": cases}, notes, outputs=outputs)
