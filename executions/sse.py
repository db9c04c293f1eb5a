"""GET /api/v1/executions/{id}/events/stream/: the event log as Server-Sent Events.

Resumable: a reconnecting client sends Last-Event-ID (or ?after=seq) and gets every
event after it. The stream ends with an `end` event once the execution is finished
and every event was sent."""

import asyncio
import json

from asgiref.sync import sync_to_async
from django.http import StreamingHttpResponse

from engine.states import EXECUTION_FINAL
from executions.models import Execution, ExecutionEvent
from nodeflow.api import error_response

POLL_S = 0.1
KEEPALIVE_S = 15


@sync_to_async
def _user(request):
    """The session user, or the user of an `Authorization: Token …` header."""
    if request.user.is_authenticated:
        return request.user
    header = request.headers.get("Authorization", "")
    if header.startswith("Token "):
        from rest_framework.authtoken.models import Token

        token = Token.objects.select_related("user").filter(key=header[6:].strip()).first()
        if token and token.user.is_active:
            return token.user
    return None


@sync_to_async
def _owned(execution_id, user):
    return Execution.objects.filter(pk=execution_id, owner=user).values_list("status", flat=True).first()


@sync_to_async
def _events_after(execution_id, seq):
    rows = ExecutionEvent.objects.filter(execution_id=execution_id, seq__gt=seq).order_by("seq")[:500]
    return [event.as_dict() for event in rows]


@sync_to_async
def _status(execution_id):
    return Execution.objects.filter(pk=execution_id).values_list("status", "last_seq").first()


def _error(status, code, message):
    return error_response(status, code, message)


async def event_stream(request, execution_id):
    user = await _user(request)
    if user is None:
        return _error(401, "not_authenticated", "Authentication credentials were not provided.")
    if await _owned(execution_id, user) is None:
        return _error(404, "not_found", "Not found.")
    raw = request.headers.get("Last-Event-ID") or request.GET.get("after") or "0"
    try:
        after = int(raw)
    except ValueError:
        return _error(400, "invalid_parameter", f"Last-Event-ID / after={raw!r} is not a sequence number")

    async def stream():
        last, quiet = after, 0.0
        yield "retry: 1000\n\n"
        while True:
            events = await _events_after(execution_id, last)
            for event in events:
                last = event["seq"]
                yield f"id: {last}\nevent: {event['type']}\ndata: {json.dumps(event)}\n\n"
            if events:
                quiet = 0.0
                continue
            status, last_seq = await _status(execution_id)
            if status in EXECUTION_FINAL and last >= last_seq:
                yield f"event: end\ndata: {json.dumps({'status': status, 'last_seq': last_seq})}\n\n"
                return
            await asyncio.sleep(POLL_S)
            quiet += POLL_S
            if quiet >= KEEPALIVE_S:
                quiet = 0.0
                yield ": keep-alive\n\n"

    response = StreamingHttpResponse(stream(), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response
