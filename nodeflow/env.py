"""Reading settings from the environment, failing loudly on values that make no sense."""

import os

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name, default=None):
    return os.environ.get(name, default)


def env_bool(name, default=False):
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean; use one of 1/0, true/false, yes/no, on/off")


def env_int(name, default, *, minimum=None, maximum=None):
    return _env_number(name, default, int, "a whole number", minimum, maximum)


def env_float(name, default, *, minimum=None, maximum=None):
    return _env_number(name, default, float, "a number", minimum, maximum)


def _env_number(name, default, kind, what, minimum, maximum):
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not {what}") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} is below the minimum of {minimum}")
    if maximum is not None and value > maximum:
        raise ImproperlyConfigured(f"{name}={value} is above the maximum of {maximum}")
    return value


def env_list(name, default=()):
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_mapping(name):
    """`key=value,key=value` as a dict."""
    mapping = {}
    for item in env_list(name):
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ImproperlyConfigured(f"{name}: {item!r} is not key=value")
        mapping[key.strip()] = value.strip()
    return mapping


_RATE_PERIODS = ("s", "sec", "second", "m", "min", "minute", "h", "hour", "d", "day")


def env_rate(name, default):
    """A DRF throttle rate "N/period" (period s, min, hour or day); "none" or "off" turns the limit off (None)."""
    raw = os.environ.get(name)
    value = default if raw is None else raw.strip()
    if value is None or value.lower() in ("", "none", "off"):
        return None
    count, _, period = value.partition("/")
    if not count.isdigit() or int(count) < 1 or period.lower() not in _RATE_PERIODS:
        raise ImproperlyConfigured(f"{name}={value!r} is not a rate like 30/min (periods: s, min, hour, day), or none")
    return f"{int(count)}/{period.lower()}"
