from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from tonghu.accounts.roles import Capability
from tonghu.accounts.scope import require
from tonghu.accounts.utils import acting_user
from tonghu.children.forms import AGE_BANDS, ChildFilterForm, CorrectionForm
from tonghu.children.ledger import child_file
from tonghu.children.models import Child, VerificationTask
from tonghu.children.selectors import ChildFilter, access_child
from tonghu.children.services import (
    child_correct,
    child_open,
    children_national_export,
    children_page,
)
from tonghu.children.tasks import access_task, task_answer, tasks_for
from tonghu.services.lists import profile_for
from tonghu.web.exports import xlsx_response


@login_required
def child_list(request: HttpRequest) -> HttpResponse:
    form = ChildFilterForm(request.GET or None)
    where = _filter(form)
    page = children_page(user=acting_user(request), where=where, page_number=_page(request))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page": page,
        "form": form,
        "query": query.urlencode(),
        "can_export": acting_user(request).can(Capability.MANAGE_ROUNDS),
    }
    return render(request, "children/list.html", context)


def _filter(form: ChildFilterForm) -> ChildFilter:
    if not form.is_bound or not form.is_valid():
        return ChildFilter()
    data = form.cleaned_data
    return ChildFilter(
        name=data["name"].strip(),
        category=data["category"],
        key_care=data["key_care"],
        division=data["division"].strip(),
        age_band=AGE_BANDS.get(data["age_band"]),
        stage=data["stage"],
        hukou_province=data["hukou_province"].strip(),
        include_departed=data["include_departed"],
    )


@login_required
def child_detail(request: HttpRequest, child_id: str) -> HttpResponse:
    child = child_open(user=acting_user(request), child_id=child_id)
    return _file_page(request, child=child, form=CorrectionForm())


@login_required
@require_POST
def child_correction(request: HttpRequest, child_id: str) -> HttpResponse:
    user = acting_user(request)
    if not user.can(Capability.EDIT_CHILDREN):
        raise Http404  # as for a child outside the user's scope: nothing to reveal
    form = CorrectionForm(request.POST)
    if form.is_valid():
        try:
            correction = child_correct(user=user, child_id=child_id, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return _file_page(request, child=correction.child, form=CorrectionForm(), saved=True)
    return _file_page(request, child=access_child(user=user, child_id=child_id), form=form)


def _file_page(
    request: HttpRequest, *, child: Child, form: CorrectionForm, saved: bool = False
) -> HttpResponse:
    user = acting_user(request)
    return render(
        request,
        "children/detail.html",
        {
            "file": child_file(child=child, profile=profile_for(user)),
            "child": child,
            "form": form,
            "saved": saved,
            "can_edit": user.can(Capability.EDIT_CHILDREN),
        },
    )


def _page(request: HttpRequest) -> int:
    raw = request.GET.get("page", "1")
    return int(raw) if raw.isdigit() else 1


@login_required
def national_export(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    content = children_national_export(user=user)
    return xlsx_response(content, f"全国儿童福利信息系统录入表-{user.division_id[:6]}.xlsx")


@login_required
def task_list(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    require(user, Capability.ANSWER_TASKS)
    open_tasks = tasks_for(user=user).filter(status=VerificationTask.Status.OPEN)
    page = Paginator(open_tasks.order_by("-created_at", "-id"), 50).get_page(_page(request))
    return render(request, "children/tasks.html", {"page": page})


@login_required
@require_POST
def task_answer_view(request: HttpRequest, task_id: int) -> HttpResponse:
    user = acting_user(request)
    error = ""
    try:
        task = task_answer(user=user, task_id=task_id, answer=request.POST.get("answer", ""))
    except ValidationError as exc:
        task = access_task(user=user, task_id=task_id)
        error = "；".join(exc.messages)
    return render(request, "children/_task.html", {"task": task, "error": error})
