"""The Celery app: configured from Django settings (CELERY_*), tasks found in each app's tasks.py."""

import gc
import os

from celery import Celery
from celery.signals import task_prerun, worker_init, worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nodeflow.settings")

app = Celery("nodeflow")
app.config_from_object("nodeflow.celeryconfig", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def _install_worker_steps(sender, **kwargs):
    from executions.tasks import Reaper
    from triggers.tasks import AcceptedRecovery

    for step in (Reaper, AcceptedRecovery):
        if step not in sender.steps["worker"]:
            sender.steps["worker"].add(step)


@task_prerun.connect
def _database_hygiene(**kwargs):
    """Before each task, what Django does before each request: drop a broken or too old connection.

    Celery's own Django fixup closes the connection around every task unless
    CELERY_DB_REUSE_MAX is set (settings set it), which made each node run open a new one."""
    from django.db import close_old_connections

    close_old_connections()


@worker_init.connect
def _freeze_what_startup_made(**kwargs):
    """Out of the garbage collector's way, as the web process does (nodeflow.asgi): the modules and
    objects a worker made to start, before its pool forks (the children share them, unwritten)."""
    gc.freeze()


@worker_process_init.connect
def _one_task_at_a_time(**kwargs):
    """A prefork child runs one task at a time: a loop's iterations go through the broker from it
    (executions.finishing.HAND_OFF_ITERATIONS), not one after the other in the task that ended one."""
    from executions import finishing

    finishing.HAND_OFF_ITERATIONS = False
