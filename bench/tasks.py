"""Bare Celery tasks: the baseline NodeFlow is measured against (PERFORMANCE.md)."""

import time

from celery import shared_task
from django.conf import settings


@shared_task(name="bench.noop", ignore_result=False)
def noop(*args):
    return None


@shared_task(name="bench.mark", ignore_result=True)
def mark(*args, key):
    """Tell the benchmark that a baseline shape finished (the last task of a chain or chord)."""
    import redis  # here, not at the top: every worker (embedded mode too) imports this module

    redis.Redis.from_url(settings.REDIS_URL).rpush(key, time.time())
