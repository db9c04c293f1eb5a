"""Live updates: events are broadcast to Channels groups after their transaction commits.

Broadcasting is off the node's critical path: each process hands its events to one
sender thread that owns an event loop and the channel layer connection. Events leave
in the order they were committed in this process; consumers put events from several
processes in `seq` order and fill any gap from the database.

A process that ends (a command that started executions) sends what it queued first, for up
to EXIT_DRAIN_S, and stops the thread's loop: left running, the thread was cut off by the
interpreter's shutdown in the middle of a send, and that aborted the process (SIGABRT,
"FATAL: exception not rethrown") after its work was done."""

import asyncio
import atexit
import collections
import logging
import os
import threading

from channels.layers import get_channel_layer

logger = logging.getLogger("nodeflow.live")

EXIT_DRAIN_S = 2.0

_sender = None
_sender_pid = None
_sender_lock = threading.Lock()


def execution_group(execution_id):
    return f"execution.{execution_id}"


def workflow_group(workflow_id):
    return f"workflow.{workflow_id}"


def broadcast(execution_id, workflow_id, events):
    """Queue the events of one transition for the execution's group and its workflow's group."""
    if not events:
        return
    message = {"type": "execution.events", "execution_id": str(execution_id),
               "events": [event.as_dict() for event in events]}
    _get_sender().submit(execution_id, workflow_id, message)


def _get_sender():
    global _sender, _sender_pid
    if _sender is None or _sender_pid != os.getpid():  # a forked child needs its own thread
        with _sender_lock:
            if _sender is None or _sender_pid != os.getpid():
                _sender, _sender_pid = _Sender(), os.getpid()
    return _sender


class _Sender:
    """One thread with its own event loop that sends queued broadcasts in order.

    What is queued while a send is under way leaves together: with a layer that has
    group_send_many (nodeflow.redis_channels), one round trip finds which of the batch's groups
    anyone listens to, and only those are sent to."""

    BATCH = 500  # broadcasts per group_send_many at most

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.layer = None
        self.lock = asyncio.Lock()  # one batch at a time keeps the order (bound to the loop on first use)
        self.queue = collections.deque()
        self.queue_lock = threading.Lock()
        self.draining = False  # a _drain is scheduled or running: it takes what is queued meanwhile
        self.thread = threading.Thread(target=self.loop.run_forever, name="nodeflow-live", daemon=True)
        self.thread.start()
        self.pid = os.getpid()
        atexit.register(self.close)

    def submit(self, execution_id, workflow_id, message):
        with self.queue_lock:
            self.queue.append((execution_id, workflow_id, message))
            if self.draining:
                return
            self.draining = True
        asyncio.run_coroutine_threadsafe(self._drain(), self.loop)

    def close(self, timeout=None):
        """Send what is queued (in order: after the sends before it), then stop the loop and its thread."""
        if os.getpid() != self.pid or not self.thread.is_alive():
            return  # a forked child's copy: its thread is the parent's
        timeout = EXIT_DRAIN_S if timeout is None else timeout
        try:
            asyncio.run_coroutine_threadsafe(self._drained(), self.loop).result(timeout)
        except Exception:  # noqa: BLE001 — not sent in time: consumers fill gaps from the database
            logger.warning("live events still queued at exit were not sent")
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout)

    async def _drained(self):
        async with self.lock:  # queued behind the drain of every send submitted before
            pass

    async def _drain(self):
        async with self.lock:
            while True:
                with self.queue_lock:
                    batch = [self.queue.popleft() for _ in range(min(self.BATCH, len(self.queue)))]
                    if not batch:
                        self.draining = False
                        return
                await self._send_now(batch)

    async def _send_now(self, batch):
        sends = []
        for execution_id, workflow_id, message in batch:
            sends.append((execution_group(execution_id), message))
            if workflow_id:
                sends.append((workflow_group(workflow_id), message))
        try:
            if self.layer is None:
                self.layer = get_channel_layer()
            if self.layer is None:
                return
            send_many = getattr(self.layer, "group_send_many", None)
            if send_many is not None:
                await send_many(sends)
                return
            for group, message in sends:
                await self.layer.group_send(group, message)
        except Exception:  # live updates must never break the engine; consumers repair gaps
            logger.exception("broadcast of %d transition(s), the first of execution %s, failed", len(batch),
                             batch[0][0])
