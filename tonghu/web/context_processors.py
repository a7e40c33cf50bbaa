from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from tonghu.web.navigation import NAVIGATION, NavItem


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"navigation": []}
    items: dict[str, NavItem] = {}  # an item reachable through two capabilities shows once
    for item in NAVIGATION:
        if item.capability is None or user.can(item.capability):
            items.setdefault(item.label, item)
    return {"navigation": list(items.values())}
