from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote, urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from tonghu.accounts.roles import Capability
from tonghu.accounts.scope import require
from tonghu.accounts.utils import acting_user
from tonghu.children.services import child_open
from tonghu.divisions.selectors import subdivisions
from tonghu.visits.forms import VisitForm
from tonghu.visits.plan import STATUS_LABELS
from tonghu.visits.selectors import WorkItem, paged_worklist, visits_of
from tonghu.visits.services import FINDINGS, VisitConflictError, visit_initial, visit_record

SAVED_HEADER = "X-Tonghu-Visit"  # the offline outbox knows a submission landed by this
LINK_SLOT = "0CHILD0"  # where a child's code goes in the worklist's visit links


@login_required
def worklist_page(request: HttpRequest) -> HttpResponse:
    """The visits due, one page at a time, most urgent first in each village; a supervisor
    (or county staff) may narrow it to one village (or town) of the jurisdiction."""
    user = acting_user(request)
    require(user, Capability.EDIT_CHILDREN)
    areas = list(subdivisions(division=user.division))
    chosen = next((a for a in areas if a.code == request.GET.get("area")), None)
    raw = request.GET.get("page", "1")
    found = paged_worklist(
        user=user,
        area=chosen.prefix if chosen else "",
        page_number=int(raw) if raw.isdigit() else 1,
    )
    # One reverse for the page: each row's link is the child's code between its two halves.
    head, tail = reverse("visits:new", args=[LINK_SLOT]).split(LINK_SLOT)
    villages: list[tuple[str, list[tuple[WorkItem, str]]]] = []
    last = ""
    for item in found.items:
        if item.child.residence_division_id != last:
            last = item.child.residence_division_id
            villages.append((item.child.residence_division.name, []))
        villages[-1][1].append((item, f"{head}{quote(item.child.child_id)}{tail}"))
    sub_level = user.division.level_enum.child
    context = {
        "villages": villages,
        "page": found.page,
        "counts": [(STATUS_LABELS[s], s.value, n) for s, n in found.counts.items()],
        "areas": areas,
        "area_label": sub_level.label if sub_level else "",
        "chosen": chosen.code if chosen else "",
        "query": urlencode({"area": chosen.code}) + "&" if chosen else "",
        "today": timezone.localdate(),
    }
    return render(request, "visits/worklist.html", context)


@login_required
def visit_new(request: HttpRequest, child_id: str) -> HttpResponse:
    user = acting_user(request)
    if not user.can(Capability.EDIT_CHILDREN):
        raise Http404  # as for a child outside the user's scope
    child = child_open(user=user, child_id=child_id)
    if request.method != "POST":
        initial = {
            **visit_initial(child=child),
            "token": uuid.uuid4(),
            "child_version": child.version,
            "visited_on": timezone.localdate(),
        }
        return _form_page(request, child=child, form=VisitForm(initial=initial))
    form = VisitForm(request.POST)
    if not form.is_valid():
        return _form_page(request, child=child, form=form, status=400)
    data = form.cleaned_data
    try:
        outcome = visit_record(
            user=user,
            child_id=child.child_id,
            token=data["token"],
            findings={name: data[name] for name in FINDINGS},
            kind=data["kind"],
            visited_on=data["visited_on"],
            note=data["note"],
            child_version=data["child_version"],
            resolution=data["resolution"] or "",
        )
    except VisitConflictError as conflict:
        post = request.POST.copy()
        post["child_version"] = str(conflict.version)
        return _form_page(request, child=child, form=VisitForm(post), conflict=conflict, status=409)
    except ValidationError as error:
        form.add_error(None, error)
        return _form_page(request, child=child, form=form, status=400)
    if outcome.not_applied:
        messages.warning(
            request,
            f"走访记录已保存，但档案未按本次走访重新认定：{outcome.not_applied}"
            "下一轮监测摸排将读取本次走访。",
        )
    target = reverse("visits:child", args=[child.child_id]) + f"?saved={outcome.visit.token}"
    return redirect(target)


def _form_page(
    request: HttpRequest,
    *,
    child: Any,
    form: VisitForm,
    conflict: VisitConflictError | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {"child": child, "form": form, "conflict": conflict}
    return render(request, "visits/form.html", context, status=status)


@login_required
def child_visits(request: HttpRequest, child_id: str) -> HttpResponse:
    user = acting_user(request)
    child = child_open(user=user, child_id=child_id)
    visits = list(visits_of(child=child))
    saved = request.GET.get("saved", "")
    just_saved = next((v for v in visits if str(v.token) == saved), None)
    context = {
        "child": child,
        "visits": visits,
        "just_saved": just_saved,
        "can_visit": user.can(Capability.EDIT_CHILDREN),
    }
    response = render(request, "visits/child.html", context)
    if just_saved is not None:
        response[SAVED_HEADER] = str(just_saved.token)
    return response
