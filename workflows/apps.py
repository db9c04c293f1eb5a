from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "workflows"

    def ready(self):
        from variables.services import changes_committed
        from workflows import variable_triggers

        # A committed change of a global variable starts the workflows whose trigger.variable watch it.
        changes_committed.connect(variable_triggers.on_changes_committed, dispatch_uid="variable_triggers")
