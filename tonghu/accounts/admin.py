from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from tonghu.accounts.models import ApiToken, User


@admin.register(User)
class TonghuUserAdmin(UserAdmin):  # type: ignore[type-arg]
    list_display = (
        "username",
        "last_name",
        "first_name",
        "role",
        "division",
        "department",
        "is_active",
    )
    list_filter = ("role", "department", "is_active")
    search_fields = ("username", "division__code", "division__name")
    autocomplete_fields = ("division",)
    fieldsets = (
        *(UserAdmin.fieldsets or ()),
        ("岗位", {"fields": ("role", "division", "department", "organisation")}),
    )
    add_fieldsets = (
        *UserAdmin.add_fieldsets,
        ("岗位", {"fields": ("role", "division", "department", "organisation")}),
    )


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    list_display = ("user", "name", "created_at")
    readonly_fields = ("key_hash", "created_at")
