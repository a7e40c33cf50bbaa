from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.crypto import salted_hmac

from tonghu.accounts.roles import ROLE_CAPABILITIES, ROLE_LEVELS, Capability, Department, Role
from tonghu.divisions.codes import Level
from tonghu.divisions.models import Division


class User(AbstractUser):
    """A person working in the system: one role, one division, and for officers one department."""

    role = models.CharField("角色", max_length=24, choices=Role.choices)
    division = models.ForeignKey(
        Division, verbose_name="所属区划", on_delete=models.PROTECT, related_name="users"
    )
    department = models.CharField("所属部门", max_length=24, choices=Department.choices, blank=True)
    organisation = models.CharField(
        "所在单位", max_length=100, blank=True, help_text="强制报告责任人所在的学校、医院等"
    )

    REQUIRED_FIELDS = ["role", "division"]

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"

    def clean(self) -> None:
        super().clean()
        allowed = ROLE_LEVELS[Role(self.role)]
        division_level = Level(self.division.level)
        if allowed is not None and division_level not in allowed:
            levels = "、".join(level.label for level in allowed)
            raise ValidationError({"division": f"{self.get_role_display()}应属于{levels}区划"})
        if self.role == Role.DEPARTMENT_OFFICER and not self.department:
            raise ValidationError({"department": "部门工作人员必须指定所属部门"})

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The admin is for system administrators only, and only through their role.
        self.is_staff = self.is_superuser = self.role == Role.SYSADMIN
        super().save(*args, **kwargs)

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        """Signed-in sessions carry this; a new password, role, division or department (or a
        deactivation) changes it, so every open session of the user ends at its next request
        and the new scope applies at once."""
        state = f"{self.password}|{self.role}|{self.division_id}|{self.department}"
        return salted_hmac(
            "tonghu.accounts.User.session", state, secret=secret, algorithm="sha256"
        ).hexdigest()

    def can(self, capability: Capability) -> bool:
        return self.is_active and capability in ROLE_CAPABILITIES.get(Role(self.role), frozenset())


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def matching(self, token: str) -> ApiToken | None:
        return (
            self.filter(key_hash=_hash_token(token), user__is_active=True)
            .select_related("user", "user__division")
            .first()
        )


class ApiToken(models.Model):
    """A bearer token for the JSON API; only its hash is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField("用途", max_length=100)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = "API 令牌"
        verbose_name_plural = "API 令牌"

    def __str__(self) -> str:
        return f"{self.user.username}：{self.name}"

    @classmethod
    def issue(cls, *, user: User, name: str) -> tuple[ApiToken, str]:
        """Create a token and return it with its plain value, which is shown once."""
        plain = secrets.token_urlsafe(32)
        return cls.objects.create(user=user, name=name, key_hash=_hash_token(plain)), plain
