"""Celery tasks of workflows: a schedule's beat entry, when beat sends it as a message instead of
firing it itself (workflows.beat); arguments are ids only."""

from celery import shared_task

from workflows import firing


# The name is the one beat entries were written with (triggers.services.periodic_task_name's entries).
@shared_task(name="triggers.fire_schedule", ignore_result=True)
def fire_schedule(workflow_id, node_id):
    execution = firing.fire_schedule(workflow_id, node_id)
    return str(execution.pk) if execution is not None else None
