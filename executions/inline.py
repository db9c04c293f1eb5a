"""The inline adapter: runs an execution to its end in this process, with the same runtime."""

import time
from collections import deque
from datetime import datetime, timezone

from engine.states import EXECUTION_FINAL
from executions import executing, reaper, services, starting, waking
from executions.models import Execution


class InlineDispatcher:
    """Collects node runs to start and timers to fire; `drain()` runs them in order."""

    after_commit = False

    def __init__(self):
        self.ready = deque()
        self.timers = []
        self.deferred = deque()

    def defer(self, function):
        """Work asked for inside a transition (executions.dispatch.after_transition): done next."""
        self.deferred.append(function)

    def dispatch(self, execution_id, starts):
        self.ready.extend((execution_id, start.node_id, start.whole) for start in starts)

    def dispatch_later(self, execution_id, node_id, eta, reason, start=None):
        self.timers.append((eta, execution_id, node_id, reason))

    def revoke(self, task_ids):
        """Nothing to revoke: a cancelled node's claim is refused when its turn comes."""

    def requeue_unrecorded(self, execution_id, node_id, attempt):
        reaper.requeue(execution_id, node_id, attempt, dispatcher=self, code=reaper.RESULT_NOT_RECORDED)

    def drain(self):
        while self.deferred or self.ready or self.timers:
            while self.deferred or self.ready:
                if self.deferred:
                    self.deferred.popleft()()
                    continue
                execution_id, node_id, whole = self.ready.popleft()
                executing.run_node(execution_id, node_id, dispatcher=self, whole=whole)
            if self.timers:
                self.timers.sort(key=lambda timer: timer[0])
                eta, execution_id, node_id, reason = self.timers.pop(0)
                if reason == "execution_timeout" and self._ended(execution_id):
                    continue  # the execution ended before its timeout: nothing to wait for
                delay = (eta - datetime.now(timezone.utc)).total_seconds()
                if delay > 0:
                    time.sleep(delay)
                if reason == "retry":
                    executing.run_node(execution_id, node_id, dispatcher=self)
                elif reason == "execution_timeout":
                    services.expire_execution(execution_id, dispatcher=self)
                else:
                    waking.wake_node(execution_id, node_id, dispatcher=self, reason=reason)


    @staticmethod
    def _ended(execution_id):
        return Execution.objects.filter(pk=execution_id, status__in=list(EXECUTION_FINAL)).exists()


def run_inline(document, **kwargs):
    """Start an execution of `document` and run it to its end here; returns the execution."""
    dispatcher = InlineDispatcher()
    execution = starting.start_execution(document, dispatcher=dispatcher, **kwargs)
    dispatcher.drain()
    return Execution.objects.get(pk=execution.pk)
