from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from tonghu.accounts.roles import Capability
from tonghu.accounts.utils import acting_user
from tonghu.children.selectors import count_by_subdivision
from tonghu.divisions.selectors import access_division, subdivisions

if TYPE_CHECKING:
    from tonghu.accounts.models import User


def division_context(*, user: User, code: str) -> dict[str, Any]:
    """A division in scope, its subdivisions and (for roles seeing the ledger) child counts."""
    division = access_division(user=user, code=code)
    show_counts = user.can(Capability.VIEW_CHILDREN)
    counts = count_by_subdivision(user=user, division=division) if show_counts else {}
    rows = [(sub, counts.get(sub.code, 0)) for sub in subdivisions(division=division)]
    return {"division": division, "rows": rows, "show_counts": show_counts}


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    return redirect("divisions:detail", code=acting_user(request).division_id)


@login_required
def detail(request: HttpRequest, code: str) -> HttpResponse:
    context = division_context(user=acting_user(request), code=code)
    return render(request, "divisions/detail.html", context)
