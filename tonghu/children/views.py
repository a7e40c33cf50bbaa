from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from tonghu.accounts.roles import Capability
from tonghu.accounts.scope import require, scope_prefix
from tonghu.accounts.utils import acting_user
from tonghu.children.forms import AGE_BANDS, ChildFilterForm, CorrectionForm
from tonghu.children.ledger import child_file
from tonghu.children.models import Child, VerificationTask
from tonghu.children.selectors import ChildFilter, access_child
from tonghu.children.services import (
    FileChangedError,
    child_correct,
    child_open,
    children_national_export,
    children_page,
)
from tonghu.children.tasks import access_task, task_answer, tasks_for
from tonghu.privacy.services import child_reveal, may_break_glass, may_reveal
from tonghu.privacy.views import export_with_reason
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
        "can_break_glass": may_break_glass(acting_user(request)),
    }
    return render(request, "children/list.html", context)


def _filter(form: ChildFilterForm) -> ChildFilter:
    if not form.is_bound or not form.is_valid():
        return ChildFilter()
    data = form.cleaned_data
    return ChildFilter(
        name=data["name"].strip(),
        id_number=data["id_number"].strip(),
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
    child = child_open(user=acting_user(request), child_id=child_id, allow_emergency=True)
    return _file_page(request, child=child, form=_correction_form(child))


@login_required
@require_POST
def child_reveal_view(request: HttpRequest, child_id: str) -> HttpResponse:
    """The file again with full ID numbers and phones, for roles allowed; audited."""
    user = acting_user(request)
    child = child_open(user=user, child_id=child_id, allow_emergency=True)
    child_reveal(user=user, child=child)
    return _file_page(request, child=child, form=_correction_form(child), revealed=True)


@login_required
@require_POST
def child_correction(request: HttpRequest, child_id: str) -> HttpResponse:
    user = acting_user(request)
    if not user.can(Capability.EDIT_CHILDREN):
        raise Http404  # as for a child outside the user's scope: nothing to reveal
    form = CorrectionForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            correction = child_correct(user=user, child_id=child_id, **form.cleaned_data)
        except FileChangedError as error:
            form.add_error(None, error)
            status = 409
        except ValidationError as error:
            form.add_error(None, error)
        else:
            child = correction.child
            return _file_page(request, child=child, form=_correction_form(child), saved=True)
    child = access_child(user=user, child_id=child_id)
    # The form keeps what was typed; it now carries the version the user sees on the page.
    form.data = data = request.POST.copy()
    data["version"] = str(child.version)
    return _file_page(request, child=child, form=form, status=status)


def _correction_form(child: Child) -> CorrectionForm:
    return CorrectionForm(initial={"version": child.version})


def _file_page(
    request: HttpRequest,
    *,
    child: Child,
    form: CorrectionForm,
    saved: bool = False,
    revealed: bool = False,
    status: int = 200,
) -> HttpResponse:
    user = acting_user(request)
    in_scope = child.residence_division_id.startswith(scope_prefix(user))
    file = child_file(child=child, profile=profile_for(user), role=user.role, revealed=revealed)
    context = {
        "file": file,
        "child": child,
        "form": form,
        "saved": saved,
        "can_edit": in_scope and user.can(Capability.EDIT_CHILDREN),
        "can_reveal": file.has_masked and may_reveal(user),
        "emergency": not in_scope,
    }
    return render(request, "children/detail.html", context, status=status)


def _page(request: HttpRequest) -> int:
    raw = request.GET.get("page", "1")
    return int(raw) if raw.isdigit() else 1


@login_required
def national_export(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    require(user, Capability.MANAGE_ROUNDS)
    name = f"全国儿童福利信息系统录入表-{user.division_id[:6]}.xlsx"

    def export(reason: str) -> HttpResponse:
        return xlsx_response(children_national_export(user=user, reason=reason), name)

    return export_with_reason(request, title="导出全国儿童福利信息系统录入表", export=export)


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
