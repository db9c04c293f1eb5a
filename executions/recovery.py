"""Re-dispatch node runs whose Celery messages may have been lost (a broker that forgot them)."""

import logging

from engine.states import EXECUTION_FINAL, NodeStatus
from executions.compiled import compiled_for
from executions.dispatch import start_of
from executions.models import NodeRun

logger = logging.getLogger("nodeflow.engine")


def requeue_orphans(dispatcher):
    """Send again every queued node run of an unfinished execution. Duplicates are harmless:
    a node run that is no longer queued when a message arrives is ignored."""
    runs = (
        NodeRun.objects.filter(status=NodeStatus.QUEUED)
        .exclude(execution__status__in=list(EXECUTION_FINAL) + ["paused"])
        .values_list("execution_id", "node_id", "execution__definition_id", "task_id")
    )
    count = 0
    for execution_id, node_id, definition_id, task_id in runs:
        dispatcher.dispatch(str(execution_id), [start_of(compiled_for(definition_id), node_id, task_id)])
        count += 1
    if count:
        logger.info("re-sent %d queued node runs", count)
    return count
