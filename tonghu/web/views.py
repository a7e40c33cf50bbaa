from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tonghu.accounts.roles import Capability
from tonghu.accounts.utils import acting_user
from tonghu.children.services import children_page
from tonghu.divisions.views import division_context


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Each role's start page: its jurisdiction, and its children where the role may see them."""
    user = acting_user(request)
    context = division_context(user=user, code=user.division_id)
    if user.can(Capability.VIEW_CHILDREN):
        context["children_page"] = children_page(user=user)
    return render(request, "web/home.html", context)
