from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tonghu.accounts.roles import Capability
from tonghu.accounts.scope import require
from tonghu.accounts.utils import acting_user
from tonghu.audit.forms import AuditSearchForm
from tonghu.audit.selectors import AuditFilter, audit_search

PAGE_SIZE = 100


@login_required
def search(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    require(user, Capability.VIEW_AUDIT)
    form = AuditSearchForm(request.GET or None)
    where = form.to_filter() if form.is_valid() else AuditFilter()
    entries = audit_search(user=user, where=where)
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "audit/search.html", {"form": form, "page": page})
