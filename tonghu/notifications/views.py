from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from tonghu.accounts.utils import acting_user
from tonghu.notifications.services import notifications_for, notifications_mark_read

PAGE_SIZE = 50


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    notes = notifications_for(user=acting_user(request))
    page = Paginator(notes, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "notifications/inbox.html", {"page": page})


@login_required
@require_POST
def mark_read(request: HttpRequest) -> HttpResponse:
    notifications_mark_read(user=acting_user(request))
    return redirect("notifications:inbox")
