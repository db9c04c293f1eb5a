"""Retry policy: exponential backoff with full jitter (the AWS "full jitter" scheme)."""

import random

from engine.errors import RETRYABLE_BY_DEFAULT

DEFAULT_BACKOFF_S = 1.0
DEFAULT_MAX_BACKOFF_S = 60.0


def should_retry(policy, attempt, error_class):
    """Whether a node whose `attempt` just failed with `error_class` gets another attempt."""
    if not policy:
        return False
    retry_on = policy.get("on") or RETRYABLE_BY_DEFAULT
    return attempt < int(policy.get("max_attempts", 1)) and error_class in retry_on


def backoff_delay(policy, attempt, rng=random.random):
    """Seconds to wait after failed attempt number `attempt` (1-based).

    The ceiling doubles per attempt from `backoff_s` up to `max_backoff_s`; with
    jitter (the default) the delay is uniform between 0 and the ceiling."""
    base = float(policy.get("backoff_s", DEFAULT_BACKOFF_S))
    cap = float(policy.get("max_backoff_s", DEFAULT_MAX_BACKOFF_S))
    ceiling = min(cap, base * 2 ** (attempt - 1))
    if policy.get("jitter", True):
        return rng() * ceiling
    return ceiling
