"""Re-dispatch node runs whose Celery messages may have been lost (a broker that forgot them)."""

import logging

from engine.states import EXECUTION_FINAL, NodeStatus
from executions.models import NodeRun

logger = logging.getLogger("nodeflow.engine")


def requeue_orphans(dispatcher=None):
    """Send again every queued node run of an unfinished execution. Duplicates are harmless:
    a node run that is no longer queued when a message arrives is ignored."""
    from executions.runtime import Start, compiled_for
    from executions.tasks import dispatcher as celery_dispatcher

    dispatcher = dispatcher or celery_dispatcher
    runs = (
        NodeRun.objects.filter(status=NodeStatus.QUEUED)
        .exclude(execution__status__in=list(EXECUTION_FINAL) + ["paused"])
        .values_list("execution_id", "node_id", "execution__definition_id", "task_id")
    )
    count = 0
    for execution_id, node_id, definition_id, task_id in runs:
        compiled = compiled_for(definition_id)
        start = Start(node_id, compiled.queue(node_id), compiled.graph.node(node_id).get("timeout_s"), task_id,
                      compiled.runs_locally(node_id))
        dispatcher.dispatch(str(execution_id), [start])
        count += 1
    if count:
        logger.info("re-sent %d queued node runs", count)
    return count
