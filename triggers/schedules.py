"""What a trigger.schedule node means, in plain Python: its cron fields, time zone and next fire times.

Cron expressions have 5 fields (minute hour day-of-month month day-of-week) and are
read the way celery-beat's `crontab` reads them, since beat is what fires them: names
(`mon-fri`, `jan`), ranges, lists and steps; when both day fields are restricted a day
must match both. The `@hourly`… shorthands are accepted."""

import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from celery.schedules import crontab
from croniter import croniter

UNIT_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}
CRON_FIELDS = ("minute", "hour", "day_of_month", "month_of_year", "day_of_week")
_FIELD_NAMES = {"minute": "minute (0-59)", "hour": "hour (0-23)", "day_of_month": "day-of-month (1-31)",
                "month_of_year": "month (1-12 or jan-dec)", "day_of_week": "day-of-week (0-6 or sun-sat, 0 = Sunday)"}
# The longest field django-celery-beat's CrontabSchedule stores.
_FIELD_MAX_LENGTH = {"minute": 240, "hour": 96, "day_of_month": 124, "month_of_year": 64, "day_of_week": 64}
ALIASES = {"@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@weekly": "0 0 * * 0",
           "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *"}


class InvalidSchedule(ValueError):
    """A cron expression or time zone that cannot be scheduled; `param` names the param at fault."""

    def __init__(self, param, message):
        super().__init__(message)
        self.param = param


@dataclass(frozen=True)
class Schedule:
    """A schedule node's timing: either every `every_s` seconds, or a cron expression in a time zone."""

    timezone: str
    every_s: int | None = None
    cron: str | None = None

    @property
    def cron_fields(self):
        return dict(zip(CRON_FIELDS, self.cron.split())) if self.cron else None

    def describe(self, params):
        """The `schedule` an execution's input carries: what was configured."""
        if self.cron:
            return {"cron": params["cron"], "timezone": self.timezone}
        return {"every": params["every"], "unit": params.get("unit", "minutes"), "timezone": self.timezone}


def parse(params):
    """The Schedule of a trigger.schedule node's params (defaults applied); InvalidSchedule when it cannot run."""
    zone = params.get("timezone") or "UTC"
    check_timezone(zone)
    if params.get("cron") is not None:
        return Schedule(timezone=zone, cron=parse_cron(params["cron"]))
    every, unit = params.get("every"), params.get("unit") or "minutes"
    if not isinstance(every, int) or isinstance(every, bool) or every < 1:
        raise InvalidSchedule("every", "give `every` (a whole number ≥ 1) with a `unit`, or a `cron` expression")
    if unit not in UNIT_SECONDS:
        raise InvalidSchedule("unit", f"unit must be one of {', '.join(UNIT_SECONDS)}, not {unit!r}")
    return Schedule(timezone=zone, every_s=every * UNIT_SECONDS[unit])


def parse_cron(expression):
    """The expression as 5 normalised fields ("*/5 * * * *"); InvalidSchedule naming the field at fault."""
    if not isinstance(expression, str):
        raise InvalidSchedule("cron", "cron must be a string of 5 fields: minute hour day-of-month month day-of-week")
    text = ALIASES.get(expression.strip().lower(), expression)
    fields = text.split()
    if len(fields) != 5:
        raise InvalidSchedule("cron", f"cron {expression!r} has {len(fields)} field(s); it needs 5: "
                                      "minute hour day-of-month month day-of-week (e.g. '*/15 9-17 * * mon-fri')")
    for name, value in zip(CRON_FIELDS, fields):
        if len(value) > _FIELD_MAX_LENGTH[name]:
            raise InvalidSchedule("cron", f"cron {expression!r}: the {_FIELD_NAMES[name]} field is longer than "
                                          f"{_FIELD_MAX_LENGTH[name]} characters")
        try:
            crontab(**{name: value})
        except Exception as exc:  # noqa: BLE001 - celery raises ValueError, ParseException and friends
            hint = " (use 0 or sun for Sunday)" if name == "day_of_week" and "7" in value else ""
            raise InvalidSchedule("cron", f"cron {expression!r}: the {_FIELD_NAMES[name]} field {value!r} is not "
                                          f"valid: {str(exc).rstrip('.')}{hint}") from None
    try:
        crontab(**dict(zip(CRON_FIELDS, fields)))
    except Exception as exc:  # noqa: BLE001 - e.g. day 31 of February
        raise InvalidSchedule("cron", f"cron {expression!r} is not valid: {exc}") from None
    if not croniter.is_valid(" ".join(fields)):
        raise InvalidSchedule("cron", f"cron {expression!r} is not valid")
    return " ".join(fields)


@lru_cache(maxsize=1)
def _zones():
    return frozenset(zoneinfo.available_timezones())


def check_timezone(name):
    if not isinstance(name, str) or name not in _zones():
        raise InvalidSchedule("timezone", f"timezone {name!r} is not an IANA time zone name (e.g. 'Europe/Paris', "
                                          "'America/New_York', 'UTC')")
    return name


def next_runs(schedule, now, count=5, anchor=None):
    """The next `count` fire times after `now` (aware datetimes in the schedule's time zone).

    Interval schedules count from `anchor` (when they were published): beat fires them
    every `every_s` seconds from then."""
    zone = zoneinfo.ZoneInfo(schedule.timezone)
    now = now.astimezone(zone)
    if schedule.cron:
        iterator = croniter(schedule.cron, now, day_or=False)
        return [iterator.get_next(datetime) for _ in range(count)]
    step = timedelta(seconds=schedule.every_s)
    start = (anchor or now).astimezone(zone)
    passed = max(0, int((now - start) / step)) + 1 if now >= start else 1
    return [start + step * (passed + i) for i in range(count)]
