"""The WebSocket consumer of an execution's events (after a SNAPSHOT); a workflow's stream is
workflows.consumers."""

import asyncio
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from executions import live
from executions.api import ExecutionSerializer, NodeRunSummarySerializer
from executions.models import Execution, ExecutionEvent

# Events arriving within this window go out together as one frame (a JSON array).
BATCH_WINDOW_S = 0.005
BATCH_MAX = 500
REFUSED = 4403  # close code: not authenticated, or not the owner


class ExecutionConsumer(AsyncJsonWebsocketConsumer):
    """`/ws/executions/{id}/[?after=seq]`: a SNAPSHOT, then every event exactly once, in `seq` order.

    The database is the truth: a broadcast that arrives out of order or never arrives
    is repaired by reading the missing events from the event log."""

    async def connect(self):
        self.execution_id = self.scope["url_route"]["kwargs"]["execution_id"]
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not await self._owns(user):
            await self.close(code=REFUSED)
            return
        self.last_sent = None
        self.pending = {}
        self.flusher = None
        self.lock = asyncio.Lock()
        await self.channel_layer.group_add(live.execution_group(self.execution_id), self.channel_name)
        await self.accept()
        snapshot = await self._snapshot()
        after = _int(self._query("after"))
        async with self.lock:
            await self.send_json(snapshot)
            self.last_sent = after if after is not None else snapshot["last_seq"]
            if after is not None:
                await self._send_events(await self._events_between(after, snapshot["last_seq"]))
        self.flusher = asyncio.ensure_future(self._flush_soon())  # events that came during the snapshot

    async def disconnect(self, code):
        if getattr(self, "flusher", None):
            self.flusher.cancel()
        await self.channel_layer.group_discard(live.execution_group(self.execution_id), self.channel_name)

    async def execution_events(self, message):
        for event in message["events"]:
            self.pending[event["seq"]] = event
        if self.flusher is None or self.flusher.done():
            self.flusher = asyncio.ensure_future(self._flush_soon())

    async def _flush_soon(self):
        """Send what arrived, in order, every BATCH_WINDOW_S until nothing is left."""
        while True:
            await asyncio.sleep(BATCH_WINDOW_S)
            async with self.lock:
                if self.last_sent is None:
                    return  # connect() has not sent the snapshot yet; it flushes after
                ready = sorted(seq for seq in self.pending if seq > self.last_sent)
                if not ready:
                    self.pending = {}
                    return
                top = ready[-1]
                events = [self.pending[seq] for seq in ready]
                if [e["seq"] for e in events] != list(range(self.last_sent + 1, top + 1)):
                    events = await self._events_between(self.last_sent, top)  # a gap: read it from the log
                self.pending = {seq: e for seq, e in self.pending.items() if seq > top}
                await self._send_events(events)

    async def _send_events(self, events):
        for start in range(0, len(events), BATCH_MAX):
            chunk = events[start:start + BATCH_MAX]
            await self.send_json(chunk[0] if len(chunk) == 1 else chunk)
        if events:
            self.last_sent = events[-1]["seq"]

    def _query(self, name):
        return parse_qs(self.scope.get("query_string", b"").decode()).get(name, [None])[0]

    @database_sync_to_async
    def _owns(self, user):
        return Execution.objects.filter(pk=self.execution_id, owner=user).exists()

    @database_sync_to_async
    def _snapshot(self):
        execution = Execution.objects.get(pk=self.execution_id)
        runs = execution.node_runs.order_by("start_seq", "id")
        return {
            "type": "SNAPSHOT",
            "execution": ExecutionSerializer(execution).data,
            "nodes": NodeRunSummarySerializer(runs, many=True).data,
            "last_seq": execution.last_seq,
        }

    @database_sync_to_async
    def _events_between(self, after, up_to):
        events = ExecutionEvent.objects.filter(execution_id=self.execution_id, seq__gt=after, seq__lte=up_to)
        return [event.as_dict() for event in events.order_by("seq")]


def _int(value):
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
