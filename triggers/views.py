"""POST /hooks/<token> (the published version) and /hooks/test/<token> (the draft, while listening).

Plain Django views, not DRF: no session, no CSRF, and the body is read as it came.
Async so that a sync-mode webhook waits for its execution without holding a thread."""

import asyncio
import logging
import time

from asgiref.sync import sync_to_async
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from engine.states import ExecutionStatus
from executions.models import Execution
from nodeflow.api import error_response
from triggers import webhooks

logger = logging.getLogger("nodeflow.triggers")

# A sync-mode webhook reads its execution's row first after POLL_FIRST_S, then less and less often.
POLL_FIRST_S = 0.005
POLL_MAX_S = 0.05


@csrf_exempt
async def hook(request, token):
    return await _receive(request, token, test=False)


@csrf_exempt
async def test_hook(request, token):
    return await _receive(request, token, test=True)


async def _receive(request, token, test):
    started = time.monotonic()
    outcome = await sync_to_async(webhooks.accept)(request, token, test)
    if not isinstance(outcome, webhooks.Accepted):
        return outcome  # a refusal
    params = outcome.hook.params
    if params["response"] != "sync":
        response = JsonResponse({"execution_id": outcome.execution_id}, status=202)
    else:
        remaining = max(0.0, float(params["timeout_s"]) - (time.monotonic() - started))
        response = await _result_of(outcome.execution_id, remaining, params["response_status"])
        await sync_to_async(webhooks.count_request)(response.status_code)
    if outcome.replayed:
        response["Idempotent-Replayed"] = "true"
    return response


async def _result_of(execution_id, timeout_s, status):
    """The execution's result with `status` once it succeeds; 502 when it fails; 504 after `timeout_s`."""
    row = await wait_for_execution(execution_id, timeout_s)
    details = {"execution_id": execution_id}
    if row is None:
        return error_response(504, "timeout", f"the workflow did not finish within {timeout_s:g} s; it goes "
                                       "on running: GET /api/v1/executions/{execution_id}/ for its result", details)
    status_now, result, error = row
    if status_now == ExecutionStatus.SUCCEEDED:
        response = JsonResponse(result, status=status, safe=False)
        response["X-NodeFlow-Execution-Id"] = execution_id
        return response
    return error_response(502, "execution_failed", f"the workflow ended {status_now}",
                                   {**details, "status": status_now, "error": error})


@sync_to_async
def _final_row(execution_id):
    return Execution.objects.filter(pk=execution_id, status__in=_FINAL).values_list("status", "result", "error").first()


_FINAL = [ExecutionStatus.SUCCEEDED, ExecutionStatus.FAILED, ExecutionStatus.CANCELLED, ExecutionStatus.TIMED_OUT]


async def wait_for_execution(execution_id, timeout_s):
    """(status, result, error) once the execution is finished, or None after `timeout_s`.

    Reads the row at growing intervals (5 ms up to POLL_MAX_S): a short workflow answers
    within milliseconds, a long one costs about 20 queries a second. (Listening on the
    execution's Channels group would save those, but channels_redis loses messages of
    other waiters when a receive() is cancelled at a timeout.)"""
    deadline = time.monotonic() + timeout_s
    pause = POLL_FIRST_S
    while True:
        row = await _final_row(execution_id)
        if row is not None:
            return row
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        await asyncio.sleep(min(pause, remaining))
        pause = min(pause * 1.5, POLL_MAX_S)
