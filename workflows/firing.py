"""What a schedule's beat entry does when it fires: start a run of the published version.

It lives with workflows, which own versions and publication; triggers/services.py says what
a workflow's schedules are (their beat entries, their params), and workflows calls it, never
the other way round. Webhooks start their runs in triggers/webhooks.py, through
executions.starting.run_workflow."""

import logging
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from engine.states import ExecutionStatus
from executions.models import Execution
from executions.starting import InvalidInput, run_workflow
from executions.tasks import dispatcher
from nodes.validation import InvalidWorkflow
from triggers import schedules, services
from workflows.models import Workflow

logger = logging.getLogger("nodeflow.triggers")

# A schedule that is still queued, running, waiting or paused has not finished: `overlap: skip` waits for it.
UNFINISHED = [ExecutionStatus.QUEUED, ExecutionStatus.RUNNING, ExecutionStatus.WAITING, ExecutionStatus.PAUSED]


def fire_schedule(workflow_id, node_id):
    """Start an execution of the published version from schedule node `node_id`; None when it does not run.

    A beat entry whose workflow, publication or node is gone removes itself. With
    `overlap: skip` nothing starts while an earlier run of this node is unfinished; the
    workflow row is locked so two fires cannot both see "nothing running"."""
    with transaction.atomic():
        workflow = (Workflow.objects.select_for_update(of=("self",)).select_related("published_version", "owner")
                    .filter(pk=workflow_id).first())
        version = workflow.published_version if workflow is not None else None
        params = services.trigger_node(version.definition, services.SCHEDULE, node_id) if version is not None else None
        if params is None:
            logger.warning("schedule %s of workflow %s no longer runs; removing its beat entry", node_id, workflow_id)
            entry = services.periodic_task_name(workflow_id, node_id)
            services.remove_periodic_tasks(PeriodicTask.objects.filter(name=entry))
            return None
        if params.get("overlap") == "skip" and Execution.objects.filter(
            workflow=workflow, trigger_node=node_id, status__in=UNFINISHED
        ).exists():
            logger.info("schedule %s of workflow %s: the previous run is unfinished; skipped", node_id, workflow_id)
            return None
        schedule = schedules.parse(params)
        fired_at = timezone.now().astimezone(ZoneInfo(schedule.timezone))
        input_data = {"fired_at": fired_at.isoformat(), "schedule": schedule.describe(params)}
        try:
            return run_workflow(workflow, dispatcher=dispatcher, input_data=input_data, version="published",
                                trigger="schedule", trigger_node=node_id)
        except (InvalidInput, InvalidWorkflow) as exc:
            logger.error("schedule %s of workflow %s cannot start: %s", node_id, workflow_id, exc)
            return None
