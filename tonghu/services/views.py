from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tonghu.policy import load_profile
from tonghu.policy.rules import describe


def public_list(request: HttpRequest) -> HttpResponse:
    """The service list in force, in plain Chinese, for families (宣传解读): no login."""
    profile = load_profile(settings.TONGHU_PROFILE)
    items = [
        {
            "code": item.code,
            "name": item.name,
            "who": describe(item.who),
            "content": item.content,
            "responsible": item.responsible,
        }
        for item in profile.services.items
    ]
    context = {"profile": profile, "items": items}
    return render(request, "services/public.html", context)
