"""Celery adapter: each node run is one task; arguments are ids only."""

from celery import group, shared_task

from executions import runtime


class CeleryDispatcher:
    """Sends node runs to Celery queues; fan-out goes out together as one group."""

    after_commit = True

    def dispatch(self, execution_id, starts):
        signatures = [run_node.si(execution_id, node_id).set(queue=queue) for node_id, queue in starts]
        if len(signatures) == 1:
            signatures[0].apply_async()
        else:
            group(signatures).apply_async()

    def dispatch_later(self, execution_id, node_id, eta, reason, queue="default"):
        # A countdown on the broker, not a sleep in a worker: waiting holds no worker slot.
        if reason == "retry":
            run_node.apply_async((execution_id, node_id), eta=eta, queue=queue)
        else:
            wake_node.apply_async((execution_id, node_id, reason), eta=eta)


dispatcher = CeleryDispatcher()


@shared_task(name="nodeflow.run_node", bind=True, acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_node(self, execution_id, node_id):
    runtime.run_node(execution_id, node_id, dispatcher=dispatcher, worker=self.request.hostname)


@shared_task(name="nodeflow.wake_node", acks_late=True, ignore_result=True)
def wake_node(execution_id, node_id, reason="timer"):
    runtime.wake_node(execution_id, node_id, dispatcher=dispatcher, reason=reason)
