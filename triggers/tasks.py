"""Celery tasks of triggers: beat fires schedules through them; arguments are ids only."""

from celery import shared_task

from triggers import firing, services


@shared_task(name="triggers.fire_schedule", ignore_result=True)
def fire_schedule(workflow_id, node_id):
    execution = firing.fire_schedule(workflow_id, node_id)
    return str(execution.pk) if execution is not None else None


@shared_task(name="triggers.purge_idempotency_keys", ignore_result=True)
def purge_idempotency_keys():
    return services.purge_idempotency_keys()
