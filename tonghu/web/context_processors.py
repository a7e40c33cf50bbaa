from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from tonghu.notifications.services import unread_count
from tonghu.web.navigation import NAVIGATION, NavItem


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"navigation": []}
    items: list[NavItem] = [
        item for item in NAVIGATION if item.capability is None or user.can(item.capability)
    ]
    return {"navigation": items}


def unread_notifications(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": unread_count(user=user)}
