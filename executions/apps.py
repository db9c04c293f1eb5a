from django.apps import AppConfig


class ExecutionsConfig(AppConfig):
    name = "executions"

    def ready(self):
        from celery.signals import worker_process_init

        from executions import children, tracing  # noqa: F401 — children installs its hooks in transition

        tracing.configure()
        # A forked pool process has no exporter thread: set tracing up again in each.
        worker_process_init.connect(lambda **kwargs: tracing.configure(), weak=False)
