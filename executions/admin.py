from django.contrib import admin

from executions.models import Execution, ExecutionEvent, NodeRun


class NodeRunInline(admin.TabularInline):
    model = NodeRun
    extra = 0
    can_delete = False
    fields = ["node_id", "type", "type_version", "status", "attempt", "started_at", "finished_at", "worker"]
    readonly_fields = fields
    ordering = ["start_seq", "id"]
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Execution)
class ExecutionAdmin(admin.ModelAdmin):
    list_display = ["id", "workflow", "owner", "status", "trigger", "version", "revision", "created_at", "finished_at"]
    list_filter = ["status", "trigger"]
    search_fields = ["id", "workflow__name", "owner__username"]
    list_select_related = ["workflow", "owner"]
    readonly_fields = [f.name for f in Execution._meta.fields]
    inlines = [NodeRunInline]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False


@admin.register(NodeRun)
class NodeRunAdmin(admin.ModelAdmin):
    list_display = ["node_id", "execution", "type", "status", "attempt", "started_at", "finished_at"]
    list_filter = ["status", "type"]
    search_fields = ["node_id", "execution__id"]
    readonly_fields = [f.name for f in NodeRun._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(ExecutionEvent)
class ExecutionEventAdmin(admin.ModelAdmin):
    list_display = ["execution", "seq", "type", "node_id", "ts"]
    list_filter = ["type"]
    search_fields = ["execution__id", "node_id"]
    readonly_fields = [f.name for f in ExecutionEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
