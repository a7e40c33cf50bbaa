from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest

from tonghu.accounts.roles import Capability


class TonghuAdminSite(admin.AdminSite):
    """The Django admin, for configuration by 系统管理员 only (not for children's data)."""

    site_header = "童护 · 系统管理"
    site_title = "童护管理"
    index_title = "配置"

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        can = getattr(user, "can", None)
        return bool(super().has_permission(request) and can and can(Capability.MANAGE_SYSTEM))


class TonghuAdminConfig(AdminConfig):
    default_site = "tonghu.web.admin_site.TonghuAdminSite"
