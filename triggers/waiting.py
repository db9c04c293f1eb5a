"""A sync-mode webhook waits for its execution's end: woken by the execution's live events, not by polling.

Every transition's events are already sent to the execution's Channels group after their
commit (executions.live). A waiting request joins that group and reads the execution's row
when an execution-level event arrives (EXECUTION_STATE_CHANGED, EXECUTION_COMPLETED), once
before waiting (it may have finished already) and every SAFETY_READ_S in case a message
was lost (group messages are delivered at most once): a short workflow is answered as soon
as it commits, a long one costs a read every few seconds instead of twenty a second.

One listener per event loop receives on one channel for all the requests waiting in it,
and hands each message to the waiters of its execution. Its receive() is cancelled only
when nobody waits any more: channels_redis may lose a message that a cancelled receive()
had taken, which would be another waiter's (why the view polled before). A Redis layer
serves the receive() of one event loop at a time and refuses another loop's while one is
pending (a consumer in another thread, or a receive left behind in a loop that closed), so
each loop's listener receives through a Redis layer of its own, made from the same settings:
the groups it joins are the ones the workers send to. Without a
channel layer, or while Redis cannot be reached, the wait reads the row at growing
intervals (5 ms up to POLL_MAX_S), as it always did."""

import asyncio
import logging
import time
import weakref

from asgiref.sync import sync_to_async
from channels.layers import DEFAULT_CHANNEL_LAYER, InMemoryChannelLayer, channel_layers, get_channel_layer

from engine.states import EXECUTION_FINAL
from executions.live import execution_group
from executions.models import Execution, ExecutionEvent

logger = logging.getLogger("nodeflow.triggers")

SAFETY_READ_S = 2.0
# The longest a group_add or group_discard may take: a Redis connection that stopped answering
# would otherwise hold the request past its timeout_s (the wait then reads the row instead).
GROUP_CALL_S = 2.0
POLL_FIRST_S = 0.005
POLL_MAX_S = 0.05
WAKING_EVENTS = frozenset({ExecutionEvent.STATE_CHANGED, ExecutionEvent.COMPLETED})


@sync_to_async
def final_row(execution_id):
    """(status, result, error) of the execution once it is finished, else None."""
    return (Execution.objects.filter(pk=execution_id, status__in=list(EXECUTION_FINAL))
            .values_list("status", "result", "error").first())


async def wait_for_execution(execution_id, timeout_s):
    """(status, result, error) once the execution is finished, or None after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    listener = _listener()
    wake = None
    if listener is not None:
        try:
            wake = await listener.register(execution_id)
        except Exception as exc:  # noqa: BLE001 — the layer's Redis is away: the row tells all the same
            logger.warning("sync webhook waits by reading its execution (%s: %s)", type(exc).__name__, exc)
    try:
        if wake is None:
            return await _poll(execution_id, deadline)
        while True:
            wake.clear()  # before the read: an event committed after it sets it again
            row = await final_row(execution_id)
            remaining = deadline - time.monotonic()
            if row is not None or remaining <= 0:
                return row
            try:
                await asyncio.wait_for(wake.wait(), min(remaining, SAFETY_READ_S))
            except TimeoutError:
                pass
    finally:
        if wake is not None:
            await listener.unregister(execution_id, wake)


async def _poll(execution_id, deadline):
    pause = POLL_FIRST_S
    while True:
        row = await final_row(execution_id)
        remaining = deadline - time.monotonic()
        if row is not None or remaining <= 0:
            return row
        await asyncio.sleep(min(pause, remaining))
        pause = min(pause * 1.5, POLL_MAX_S)


_listeners = weakref.WeakKeyDictionary()  # event loop → its _Listener


def _listener():
    layer = get_channel_layer()
    if layer is None:
        return None
    loop = asyncio.get_running_loop()
    found = _listeners.get(loop)
    if found is None or found.source is not layer:
        found = _listeners[loop] = _Listener(layer)
    return found


class _Listener:
    """Receives the events of the executions waited for in one event loop, on one channel."""

    def __init__(self, layer):
        self.source = layer  # the process's layer, as get_channel_layer() gives it
        # An in-memory layer's groups live in its one instance; a Redis layer's live in Redis.
        shared = isinstance(layer, InMemoryChannelLayer)
        self.layer = layer if shared else channel_layers.make_backend(DEFAULT_CHANNEL_LAYER)
        self.channel = None
        self.waiters = {}  # execution id → {asyncio.Event}
        self.task = None

    async def register(self, execution_id):
        if self.channel is None:
            self.channel = await self.layer.new_channel("nodeflow-webhook-waits.")
        wake = asyncio.Event()
        first = execution_id not in self.waiters
        self.waiters.setdefault(execution_id, set()).add(wake)
        try:
            if first:
                async with asyncio.timeout(GROUP_CALL_S):
                    await self.layer.group_add(execution_group(execution_id), self.channel)
        except BaseException:
            await self.unregister(execution_id, wake)
            raise
        if self.task is None or self.task.done() or self.task.cancelling():
            self.task = asyncio.get_running_loop().create_task(self._receive())
        return wake

    async def unregister(self, execution_id, wake):
        waiting = self.waiters.get(execution_id)
        if waiting is not None:
            waiting.discard(wake)
            if not waiting:
                del self.waiters[execution_id]
                try:
                    async with asyncio.timeout(GROUP_CALL_S):
                        await self.layer.group_discard(execution_group(execution_id), self.channel)
                except Exception:  # noqa: BLE001 — the membership expires with the group
                    logger.warning("could not leave the group of execution %s", execution_id, exc_info=True)
        if not self.waiters and self.task is not None:
            self.task.cancel()  # nobody waits here: a message a cancelled receive() took is nobody's
            self.task = None

    async def _receive(self):
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 — Redis away: the waiters read their rows every SAFETY_READ_S
                logger.warning("sync webhook listener could not receive; retrying", exc_info=True)
                await asyncio.sleep(SAFETY_READ_S)
                continue
            events = message.get("events") or ()
            if any(event.get("type") in WAKING_EVENTS for event in events):
                for wake in self.waiters.get(message.get("execution_id"), ()):
                    wake.set()
