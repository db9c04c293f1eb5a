"""The Celery app: configured from Django settings (CELERY_*), tasks found in each app's tasks.py."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "nodeflow.settings")

app = Celery("nodeflow")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def _install_worker_steps(sender, **kwargs):
    from executions.tasks import Reaper

    if Reaper not in sender.steps["worker"]:
        sender.steps["worker"].add(Reaper)
