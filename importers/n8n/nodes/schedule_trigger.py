"""Schedule Trigger (rule.interval: seconds…months, or a cron expression) → trigger.schedule."""

from importers.n8n.nodes import NotTranslated, Translation, option

N8N_TYPES = ("n8n-nodes-base.scheduleTrigger",)
VERSIONS = (1, 1.2)

_UNITS = {"seconds": "seconds", "minutes": "minutes", "hours": "hours", "days": "days"}


def translate(node, ctx):
    params = node.get("parameters") or {}
    intervals = option(params, "rule", "interval", default=[{}]) or [{}]
    notes = []
    if len(intervals) > 1:
        notes.append(f"only the first of {len(intervals)} schedule rules is imported; add a trigger per other rule")
    rule = intervals[0] if isinstance(intervals[0], dict) else {}
    field = rule.get("field", "days")
    if field == "cronExpression":
        cron = str(rule.get("expression", "")).strip()
        fields = cron.split()
        if len(fields) == 6:
            if fields[0] not in ("0", "*"):
                raise NotTranslated("a cron expression with a seconds field other than 0")
            notes.append("the cron expression's seconds field was dropped (5 fields here)")
            cron = " ".join(fields[1:])
        return Translation("trigger.schedule", {"cron": cron}, notes)
    if field in ("seconds", "minutes", "hours"):
        every = int(rule.get(f"{field}Interval", 1) or 1)
        if field == "hours" and rule.get("triggerAtMinute"):
            return Translation("trigger.schedule", {"cron": f"{int(rule['triggerAtMinute'])} */{every} * * *"}, notes)
        return Translation("trigger.schedule", {"every": every, "unit": _UNITS[field]}, notes)
    minute, hour = int(rule.get("triggerAtMinute", 0) or 0), int(rule.get("triggerAtHour", 0) or 0)
    if field == "days":
        every = int(rule.get("daysInterval", 1) or 1)
        return Translation("trigger.schedule", {"cron": f"{minute} {hour} {'*' if every == 1 else f'*/{every}'} * *"},
                           notes)
    if field == "weeks":
        days = rule.get("triggerAtDay") or [0]
        if int(rule.get("weeksInterval", 1) or 1) != 1:
            raise NotTranslated("a schedule every several weeks (cron has no week interval)")
        return Translation("trigger.schedule", {"cron": f"{minute} {hour} * * {','.join(str(d) for d in days)}"}, notes)
    if field == "months":
        every = int(rule.get("monthsInterval", 1) or 1)
        day = int(rule.get("triggerAtDayOfMonth", 1) or 1)
        return Translation("trigger.schedule",
                           {"cron": f"{minute} {hour} {day} {'*' if every == 1 else f'*/{every}'} *"}, notes)
    raise NotTranslated(f"a schedule rule of field {field!r}")
