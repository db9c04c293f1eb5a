from django.contrib import admin

from triggers.models import IdempotencyKey, WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["workflow", "node_id", "token", "listening_until", "created_at"]
    search_fields = ["workflow__name", "node_id", "token"]
    list_select_related = ["workflow"]
    readonly_fields = ["workflow", "node_id", "token", "created_at"]

    def has_add_permission(self, request):
        return False  # made when a draft with a webhook node is saved


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(admin.ModelAdmin):
    list_display = ["key", "endpoint", "execution", "created_at"]
    search_fields = ["key"]
    list_select_related = ["endpoint__workflow"]
    readonly_fields = ["endpoint", "key", "execution", "created_at"]

    def has_add_permission(self, request):
        return False
