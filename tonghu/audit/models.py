"""Audit entries: written once, never changed or deleted through the app (nor, on PostgreSQL,
through SQL: a trigger refuses it; on SQLite updates are refused the same way)."""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models


class Action(models.TextChoices):
    VIEW = "view", "查看"
    SEARCH = "search", "查询"
    CREATE = "create", "新增"
    UPDATE = "update", "修改"
    DELETE = "delete", "删除"
    EXPORT = "export", "导出"
    IMPORT = "import", "导入"
    LOGIN = "login", "登录"
    LOGOUT = "logout", "退出"
    LOGIN_FAILED = "login_failed", "登录失败"


class ImmutableError(Exception):
    pass


def _refuse(*args: Any, **kwargs: Any) -> NoReturn:
    raise ImmutableError("审计日志不可修改或删除。")


class _ImmutableQuerySet[M: models.Model](models.QuerySet[M]):
    update = _refuse
    delete = _refuse
    bulk_update = _refuse


class AuditQuerySet(_ImmutableQuerySet["AuditEntry"]):
    pass


class AuditChildQuerySet(_ImmutableQuerySet["AuditChild"]):
    pass


class AuditEntry(models.Model):
    at = models.DateTimeField("时间", db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="用户",
        null=True,
        on_delete=models.PROTECT,
        related_name="audit_entries",
    )
    actor_username = models.CharField("用户名", max_length=150, db_index=True)
    actor_role = models.CharField("角色", max_length=24, blank=True)
    actor_division_code = models.CharField("用户区划", max_length=12, db_index=True)
    action = models.CharField("操作", max_length=16, choices=Action.choices, db_index=True)
    object_type = models.CharField("对象类型", max_length=40)
    object_ids = models.JSONField("对象", default=list)
    detail = models.CharField("说明", max_length=500, blank=True)
    client_address = models.GenericIPAddressField("来源地址", null=True)
    channel = models.CharField("渠道", max_length=8, default="web")

    objects = AuditQuerySet.as_manager()

    class Meta:
        verbose_name = "审计日志"
        verbose_name_plural = "审计日志"
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_username} {self.get_action_display()}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            _refuse()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse()


class AuditChild(models.Model):
    """Which children an entry touched, one row each, so the auditor can search by child."""

    entry = models.ForeignKey(AuditEntry, on_delete=models.PROTECT, related_name="children")
    child_id = models.CharField("儿童编号", max_length=32, db_index=True)

    objects = AuditChildQuerySet.as_manager()

    class Meta:
        verbose_name = "审计涉及儿童"
        verbose_name_plural = "审计涉及儿童"

    def __str__(self) -> str:
        return self.child_id
