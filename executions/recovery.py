"""Re-dispatch node runs whose Celery messages may have been lost (a broker that forgot them)."""

import logging

from engine.states import EXECUTION_FINAL, NodeStatus
from executions.models import NodeRun

logger = logging.getLogger("nodeflow.engine")


def requeue_orphans(dispatcher=None):
    """Send again every queued node run of an unfinished execution. Duplicates are harmless:
    a node run that is no longer queued when a message arrives is ignored."""
    from executions.runtime import compiled_for
    from executions.tasks import dispatcher as celery_dispatcher

    dispatcher = dispatcher or celery_dispatcher
    runs = (
        NodeRun.objects.filter(status=NodeStatus.QUEUED)
        .exclude(execution__status__in=list(EXECUTION_FINAL))
        .values_list("execution_id", "node_id", "execution__definition_id")
    )
    count = 0
    for execution_id, node_id, definition_id in runs:
        dispatcher.dispatch(str(execution_id), [(node_id, compiled_for(definition_id).queue(node_id))])
        count += 1
    if count:
        logger.info("re-sent %d queued node runs", count)
    return count
