"""Celery tasks of global variables."""

from celery import shared_task

from variables import services


@shared_task(name="variables.prune_history", ignore_result=True)
def prune_history():
    """Beat's round (NODEFLOW_VARIABLE_PRUNE_INTERVAL_S): changes older than NODEFLOW_VARIABLE_HISTORY_DAYS go."""
    return services.prune_history()
