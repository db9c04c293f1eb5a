"""Turning webhook requests the door accepted (AcceptedRequest rows) into their executions, once each.

The door answered 202 with an execution id once the row was committed; here a worker
creates the execution with that id and deletes the row in one transaction. The row is
taken FOR UPDATE SKIP LOCKED, so the task sent after the door's commit and recovery
(every worker's `AcceptedRecovery` step, triggers.tasks) never both start it; a row that
is gone was started. Recovery takes the rows older than NODEFLOW_RECOVER_QUEUED_AFTER_S:
their task was never sent (the web process died after its commit, or Redis was away) or
died with its worker."""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from executions.starting import InvalidInput, run_workflow
from nodes.validation import InvalidWorkflow
from triggers.models import AcceptedRequest

logger = logging.getLogger("nodeflow.triggers")


def start_accepted(ids, dispatcher):
    """Start the execution of each accepted request still waiting; how many were started."""
    started = 0
    for pk in ids:
        try:
            with transaction.atomic():
                row = (AcceptedRequest.objects.select_for_update(skip_locked=True, of=("self",))
                       .select_related("endpoint__workflow").filter(pk=pk).first())
                if row is None:
                    continue  # started already, or being started by another process
                endpoint = row.endpoint
                run_workflow(endpoint.workflow, dispatcher=dispatcher, input_data=row.input, version=row.version,
                             trigger="webhook", trigger_node=endpoint.node_id, execution_id=row.pk)
                row.delete()
                started += 1
        except (InvalidWorkflow, InvalidInput, LookupError, ValueError) as exc:
            # The door checked all of this against the same version: only a version that went away gets here.
            logger.error("accepted webhook request %s cannot run and is dropped: %s: %s", pk, type(exc).__name__, exc)
            AcceptedRequest.objects.filter(pk=pk).delete()
    return started


def recover_accepted(dispatcher, now=None, limit=500):
    """Start the accepted requests that have waited longer than NODEFLOW_RECOVER_QUEUED_AFTER_S; how many."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.NODEFLOW["RECOVER_QUEUED_AFTER_S"])
    ids = list(AcceptedRequest.objects.filter(received_at__lte=cutoff).order_by("received_at")
               .values_list("pk", flat=True)[:limit])
    if not ids:
        return 0
    started = start_accepted(ids, dispatcher)
    if started:
        logger.warning("recovery: started %d accepted webhook requests whose start was not under way", started)
    return started
