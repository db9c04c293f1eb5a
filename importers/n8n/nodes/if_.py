"""IF (v1 condition lists, v2 filters) → logic.if with a JsonLogic condition; outputs true and false."""

from importers.n8n.conditions import filter_condition, legacy_rule
from importers.n8n.nodes import Translation

N8N_TYPES = ("n8n-nodes-base.if",)
VERSIONS = (1, 2.2)
# IF v1 saves no `operation` when the rule keeps its default, which differs by data type.
_DEFAULT_OPERATION = {"boolean": "equal", "number": "smaller", "string": "equal", "dateTime": "after"}


def passes_items_through(node):
    return True


def translate(node, ctx):
    params = node.get("parameters") or {}
    if ctx.type_version >= 2:
        condition = filter_condition(ctx, params.get("conditions"), "conditions",
                                     case_sensitive_default=True)
        if (params.get("options") or {}).get("ignoreCase"):
            ctx.notes.append("ignoreCase: comparisons are case-sensitive here")
    else:
        rules = []
        for data_type in ("boolean", "number", "string", "dateTime"):
            for index, rule in enumerate((params.get("conditions") or {}).get(data_type) or []):
                operation = rule.get("operation", _DEFAULT_OPERATION[data_type])
                rules.append(legacy_rule(ctx, data_type, operation, rule.get("value1", ""),
                                         rule.get("value2", "" if data_type == "string" else 0),
                                         f"conditions.{data_type}[{index}]"))
        combine = "or" if params.get("combineOperation") == "any" else "and"
        condition = rules[0] if len(rules) == 1 else ({combine: rules} if rules else True)
    return Translation("logic.if", {"condition": condition}, outputs=[["true"], ["false"]])
