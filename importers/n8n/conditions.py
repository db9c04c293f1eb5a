"""n8n conditions (IF v1 lists, IF v2 / Switch v3 filters, Switch v1–v2 rules) as JsonLogic.

An operand that cannot be translated keeps its original text inside an operation
JsonLogic does not know (`{"n8n_expression": "…"}`), so the condition fails validation
visibly instead of silently testing something else."""

from importers.n8n.nodes import NotTranslated


def _text_op(op, left, right):
    """startsWith / endsWith through `substr` (they need the length of a literal right side)."""
    if not isinstance(right, str):
        raise NotTranslated(f"string {op} against a computed value")
    if op == "startsWith":
        return {"==": [{"substr": [left, 0, len(right)]}, right]}
    return {"==": [{"substr": [left, -len(right)]}, right]} if right else True


def _number(value):
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return value
        return int(number) if number.is_integer() else number
    return value


def _not(rule):
    return {"!": [rule]}


def filter_rule(operator_type, operation, left, right):
    """One condition of n8n's filter (IF v2, Switch v3) as JsonLogic."""
    if operator_type == "number":
        left, right = _number(left), _number(right)
    if operator_type == "boolean" and isinstance(right, str) and right.lower() in ("true", "false"):
        right = right.lower() == "true"
    if operation in ("exists", "notExists"):
        rule = {"!=": [left, None]}
        return rule if operation == "exists" else _not(rule)
    if operation in ("empty", "notEmpty", "isEmpty", "isNotEmpty"):
        if operator_type in ("array", "object"):
            rule = {"!": [left]} if operator_type == "array" else {"==": [left, {}]}
        else:
            rule = {"or": [{"==": [left, None]}, {"===": [left, ""]}]}
        return rule if operation in ("empty", "isEmpty") else _not(rule)
    if operator_type == "boolean" and operation in ("true", "false"):
        return {"===": [left, operation == "true"]}
    simple = {"equals": "==", "equal": "==", "notEquals": "!=", "notEqual": "!=", "gt": ">", "lt": "<",
              "gte": ">=", "lte": "<=", "larger": ">", "smaller": "<", "largerEqual": ">=",
              "smallerEqual": "<=", "after": ">", "before": "<", "afterOrEquals": ">=", "beforeOrEquals": "<="}
    if operation in simple:
        if operator_type == "dateTime":
            raise NotTranslated("date comparisons (n8n parses dates; JsonLogic compares text)")
        op = simple[operation]
        if op in ("==", "!=") and operator_type in ("string", "number", "boolean"):
            op = {"==": "===", "!=": "!=="}[op] if operator_type != "number" else op
        return {op: [left, right]}
    if operation in ("contains", "notContains"):
        rule = {"in": [right, left]}
        return rule if operation == "contains" else _not(rule)
    if operation in ("startsWith", "notStartsWith", "endsWith", "notEndsWith"):
        base = "startsWith" if "tarts" in operation else "endsWith"
        rule = _text_op(base, left, right)
        return _not(rule) if operation.startswith("not") else rule
    if operation.startswith("length"):
        compare = {"lengthEquals": "==", "lengthNotEquals": "!=", "lengthGt": ">", "lengthLt": "<",
                   "lengthGte": ">=", "lengthLte": "<="}.get(operation)
        if compare:
            raise NotTranslated("array length comparisons (JsonLogic has no length)")
    raise NotTranslated(f"the {operator_type} operation {operation!r}")


def filter_condition(ctx, filter_value, where, case_sensitive_default=True):
    """n8n's filter parameter `{conditions: [...], combinator}` as one JsonLogic rule."""
    if not isinstance(filter_value, dict):
        raise NotTranslated("conditions are not a filter")
    options = filter_value.get("options") or {}
    if options.get("caseSensitive", case_sensitive_default) is False:
        ctx.notes.append(f"{where}: case-insensitive comparison became case-sensitive")
    rules = []
    for index, condition in enumerate(filter_value.get("conditions") or []):
        operator = condition.get("operator") or {}
        left = ctx.operand(condition.get("leftValue", ""), f"{where}.conditions[{index}].leftValue")
        right = ctx.operand(condition.get("rightValue", ""), f"{where}.conditions[{index}].rightValue")
        rules.append(filter_rule(operator.get("type", "string"), operator.get("operation", "equals"), left, right))
    combinator = filter_value.get("combinator", "and")
    if not rules:
        return True
    return rules[0] if len(rules) == 1 else {"or" if combinator == "or" else "and": rules}


_V1_OPERATIONS = {"equal": "equals", "notEqual": "notEquals", "larger": "gt", "smaller": "lt",
                  "largerEqual": "gte", "smallerEqual": "lte", "isEmpty": "empty", "isNotEmpty": "notEmpty"}


def legacy_rule(ctx, data_type, operation, value1, value2, where):
    """One rule of IF v1 / Switch v1–v2 as JsonLogic."""
    if operation in ("regex", "notRegex"):
        raise NotTranslated("regular expressions (JsonLogic has none)")
    left = ctx.operand(value1, f"{where}.value1")
    right = ctx.operand(value2, f"{where}.value2")
    operator_type = "dateTime" if data_type == "dateTime" else data_type
    return filter_rule(operator_type, _V1_OPERATIONS.get(operation, operation), left, right)
