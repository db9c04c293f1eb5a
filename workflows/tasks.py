"""Celery tasks of workflows: a schedule's beat entry, when beat sends it as a message instead of
firing it itself (workflows.beat); arguments are ids only."""

from celery import shared_task

from workflows import firing, retention, variable_triggers


# The name is the one beat entries were written with (triggers.services.periodic_task_name's entries).
@shared_task(name="triggers.fire_schedule", ignore_result=True)
def fire_schedule(workflow_id, node_id):
    execution = firing.fire_schedule(workflow_id, node_id)
    return str(execution.pk) if execution is not None else None


@shared_task(name="workflows.prune_executions", ignore_result=True)
def prune_executions():
    """Beat's retention round (NODEFLOW_PRUNE_INTERVAL_S): what the policies say goes, in batches."""
    report = retention.prune_executions()
    return report.counts


@shared_task(name="workflows.sweep_variable_triggers", ignore_result=True)
def sweep_variable_triggers():
    """Beat's round: changes of global variables whose trigger.variable executions were not started
    after their commit (the writer's process died first) start them now."""
    return variable_triggers.sweep()
