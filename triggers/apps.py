from django.apps import AppConfig


class TriggersConfig(AppConfig):
    """Schedules on celery-beat and webhook endpoints: how published workflows start by themselves."""

    name = "triggers"

    def ready(self):
        from nodeflow import crypto

        crypto.check_keys()  # a malformed NODEFLOW_SECRET_KEYS stops the process at start
