from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tonghu.accounts.utils import acting_user
from tonghu.children.services import child_open, children_page


@login_required
def child_list(request: HttpRequest) -> HttpResponse:
    name = request.GET.get("name", "").strip()[:50]
    page = children_page(user=acting_user(request), name=name, page_number=_page(request))
    return render(request, "children/list.html", {"page": page, "name": name})


@login_required
def child_detail(request: HttpRequest, child_id: str) -> HttpResponse:
    child = child_open(user=acting_user(request), child_id=child_id)
    return render(request, "children/detail.html", {"child": child})


def _page(request: HttpRequest) -> int:
    raw = request.GET.get("page", "1")
    return int(raw) if raw.isdigit() else 1
