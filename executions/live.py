"""Live updates: events are broadcast to Channels groups after their transaction commits."""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

logger = logging.getLogger("nodeflow.live")


def execution_group(execution_id):
    return f"execution.{execution_id}"


def workflow_group(workflow_id):
    return f"workflow.{workflow_id}"


def broadcast(execution_id, workflow_id, events):
    """Send the events of one transition to the execution's group and its workflow's group.

    Called after commit; a lost broadcast is repaired by consumers, which fill any gap
    in `seq` from the database."""
    layer = get_channel_layer()
    if layer is None or not events:
        return
    message = {"type": "execution.events", "execution_id": str(execution_id),
               "events": [event.as_dict() for event in events]}
    try:
        async_to_sync(_send)(layer, execution_id, workflow_id, message)
    except Exception:  # live updates must never break the engine
        logger.exception("broadcast of %d events of %s failed", len(events), execution_id)


async def _send(layer, execution_id, workflow_id, message):
    await layer.group_send(execution_group(execution_id), message)
    if workflow_id:
        await layer.group_send(workflow_group(workflow_id), message)
