from django.contrib import admin

from credentials.models import Credential


@admin.register(Credential)
class CredentialAdmin(admin.ModelAdmin):
    """Staff see every user's credentials, never their values (not even encrypted)."""

    list_display = ["name", "type", "owner", "fields_set", "created_at", "updated_at"]
    list_filter = ["type"]
    search_fields = ["name", "owner__username"]
    list_select_related = ["owner"]
    fields = ["id", "owner", "name", "type", "fields_set", "created_at", "updated_at"]
    readonly_fields = ["id", "owner", "type", "fields_set", "created_at", "updated_at"]

    def has_add_permission(self, request):
        return False  # values are entered over the API (or the editor), where they are encrypted
