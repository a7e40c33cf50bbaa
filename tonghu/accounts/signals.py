"""Logins and logouts are audited like any other access."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from tonghu.accounts.models import User
from tonghu.audit.models import Action
from tonghu.audit.services import audit_record


@receiver(user_logged_in)
def _on_login(sender: Any, user: User, **kwargs: Any) -> None:
    audit_record(actor=user, action=Action.LOGIN, object_type="session")


@receiver(user_logged_out)
def _on_logout(sender: Any, user: User | None, **kwargs: Any) -> None:
    if user is not None:
        audit_record(actor=user, action=Action.LOGOUT, object_type="session")


@receiver(user_login_failed)
def _on_login_failed(sender: Any, credentials: dict[str, Any], **kwargs: Any) -> None:
    username = str(credentials.get("username", ""))[:150]
    audit_record(actor=None, username=username, action=Action.LOGIN_FAILED, object_type="session")
