from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from tonghu.audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin[AuditEntry]):
    """Read-only: entries cannot be added, changed or deleted through the app."""

    list_display = ("at", "actor_username", "actor_role", "action", "object_type", "channel")
    list_filter = ("action", "channel")
    search_fields = ("actor_username",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
