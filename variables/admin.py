from django.contrib import admin

from variables.models import Variable, VariableChange, VariableTrigger


@admin.register(Variable)
class VariableAdmin(admin.ModelAdmin):
    """Staff see and may correct any owner's global variables; a change here bumps no version and
    leaves no history (the API and nodes do both), so it is for repairs."""

    list_display = ["key", "owner", "version", "updated_at"]
    search_fields = ["key", "owner__username"]
    list_select_related = ["owner"]
    readonly_fields = ["version", "created_at", "updated_at"]


@admin.register(VariableChange)
class VariableChangeAdmin(admin.ModelAdmin):
    """The history of changes, read only."""

    list_display = ["key", "owner", "op", "old_version", "new_version", "execution_id", "node_id", "user", "at",
                    "triggers"]
    list_filter = ["op", "triggers"]
    search_fields = ["key", "owner__username", "node_id"]
    list_select_related = ["owner", "user"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(VariableTrigger)
class VariableTriggerAdmin(admin.ModelAdmin):
    """trigger.variable nodes of published workflows (written on publish)."""

    list_display = ["pattern", "workflow", "node_id", "owner"]
    search_fields = ["pattern", "owner__username"]
    list_select_related = ["owner", "workflow"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
