"""POST /hooks/<token> (the published version) and /hooks/test/<token> (the draft, while listening).

Plain Django views, not DRF: no session, no CSRF, and the body is read as it came.
Async so that a sync-mode webhook waits for its execution without holding a thread
(triggers.waiting: woken by the execution's live events). A sync-mode webhook's execution runs
its instant nodes (a chain of data.set, conditions, the terminal) in the transaction that creates
it, in the request (triggers.webhooks._start): a workflow of instant nodes needs no wait at all."""

import logging
import time

from asgiref.sync import sync_to_async
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from engine.states import ExecutionStatus
from nodeflow.api import error_response
from triggers import hookcache, waiting, webhooks

logger = logging.getLogger("nodeflow.triggers")


@csrf_exempt
async def hook(request, token):
    return await _receive(request, token, test=False)


@csrf_exempt
async def test_hook(request, token):
    return await _receive(request, token, test=True)


async def _receive(request, token, test):
    started = time.monotonic()
    outcome = await sync_to_async(webhooks.accept)(request, token, test, None if test else _cached_hook)
    if not isinstance(outcome, webhooks.Accepted):
        return outcome  # a refusal
    params = outcome.hook.params
    if params["response"] != "sync":
        response = JsonResponse({"execution_id": outcome.execution_id}, status=202)
    else:
        remaining = max(0.0, float(params["timeout_s"]) - (time.monotonic() - started))
        response = await _result_of(outcome.execution_id, remaining, params["response_status"], outcome.ended)
        await sync_to_async(webhooks.count_request)(response.status_code)
    if outcome.replayed:
        response["Idempotent-Replayed"] = "true"
    return response


def _cached_hook(token, test):
    """A production URL's trigger from this process's cache (triggers.hookcache), as the door finds it."""
    return hookcache.lookup(token).hook


async def _result_of(execution_id, timeout_s, status, ended=None):
    """The execution's result with `status` once it succeeds; 502 when it fails; 504 after `timeout_s`.
    `ended`: (status, result, error) of an execution that ended in the request itself."""
    row = ended or await waiting.wait_for_execution(execution_id, timeout_s)
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
