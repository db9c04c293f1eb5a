"""Celery tasks of triggers; arguments are ids only. (Schedules fire through workflows.tasks.)"""

from celery import shared_task

from triggers import services


@shared_task(name="triggers.purge_idempotency_keys", ignore_result=True)
def purge_idempotency_keys():
    return services.purge_idempotency_keys()
