from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_POST

from tonghu import clock
from tonghu.accounts.models import User
from tonghu.accounts.utils import acting_user
from tonghu.cases.selectors import access_case, cases_for
from tonghu.conferences.forms import ConferenceForm, DeclineForm, DoneForm
from tonghu.conferences.models import ConferenceTask
from tonghu.conferences.selectors import (
    access_handled_task,
    access_task,
    handles_tasks,
    may_record,
    sees_tasks,
    tasks_for,
)
from tonghu.conferences.services import (
    conference_record,
    conference_task_accept,
    conference_task_days,
    conference_task_decline,
    conference_task_done,
)

FILTERS = ("open", "overdue", "all")
DONE_NOTICES = {
    ConferenceTask.Status.ACCEPTED: "已接收该任务，完成后请记录完成情况。",
    ConferenceTask.Status.DONE: "已记录任务完成情况。",
    ConferenceTask.Status.DECLINED: "已退回该任务。",
}


def case_url(number: str) -> str:
    """The case's page (``/cases/<number>/`` until the cases pages are wired)."""
    try:
        return reverse("cases:detail", args=[number])
    except NoReverseMatch:
        return f"/cases/{number}/"


# --- recording -----------------------------------------------------------------------


@login_required
def new(request: HttpRequest, number: str) -> HttpResponse:
    user = acting_user(request)
    if not may_record(user):
        raise Http404("未找到该记录，或您无权查看。")
    case = access_case(user=user, number=number)
    form = ConferenceForm(request.POST) if request.method == "POST" else ConferenceForm()
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            conference_record(
                user=user,
                number=number,
                held_on=data["held_on"],
                departments=data["departments"],
                participants=data["participants"],
                decisions=data["decisions"],
                tasks=form.tasks(),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "已记录会商，并已提醒各责任部门办理任务。")
            return redirect(case_url(number))
    context = {
        "case": case,
        "case_url": case_url(number),
        "form": form,
        "task_days": conference_task_days(case),
    }
    return render(request, "conferences/new.html", context)


# --- tasks ---------------------------------------------------------------------------


def _filtered(tasks: QuerySet[ConferenceTask], shown: str) -> QuerySet[ConferenceTask]:
    if shown == "all":
        return tasks
    tasks = tasks.filter(status__in=ConferenceTask.OPEN_STATUSES)
    if shown == "overdue":
        tasks = tasks.filter(due_on__lt=clock.today())
    return tasks


@login_required
def task_list(request: HttpRequest) -> HttpResponse:
    """The tasks conferences gave the user's department (or, for civil affairs, the tasks
    of the cases in scope): only what the work needs."""
    user = acting_user(request)
    if not sees_tasks(user):
        raise PermissionDenied("您的角色无权使用此功能。")
    shown = request.GET.get("status", "open")
    shown = shown if shown in FILTERS else "open"
    raw = request.GET.get("page", "1")
    tasks = _filtered(tasks_for(user=user), shown).order_by("due_on", "id")
    page = Paginator(tasks, 50).get_page(int(raw) if raw.isdigit() else 1)
    context = {"page": page, "shown": shown, "can_act": handles_tasks(user), "listed": True}
    return render(request, "conferences/tasks.html", context)


@login_required
def task_page(request: HttpRequest, task_id: int) -> HttpResponse:
    user = acting_user(request)
    return _task_page(request, user, access_task(user=user, task_id=task_id))


def _task_page(
    request: HttpRequest, user: User, task: ConferenceTask, *, error: str = "", notice: str = ""
) -> HttpResponse:
    context = {
        "task": task,
        "conference": task.conference,
        "can_act": handles_tasks(user),
        "case_url": _case_url_for(user, task),
        "error": error,
        "notice": notice,
    }
    if request.headers.get("HX-Request"):
        return render(request, "conferences/_task.html", context)
    return render(request, "conferences/task.html", context)


def _case_url_for(user: User, task: ConferenceTask) -> str:
    """A link to the case for those who may open it (never for other departments)."""
    if cases_for(user=user).filter(pk=task.case_id).exists():
        return case_url(task.case.number)
    return ""


def _acted(
    request: HttpRequest,
    task_id: int,
    action: Callable[[User], ConferenceTask],
    form: Form | None = None,
) -> HttpResponse:
    user = acting_user(request)
    access_handled_task(user=user, task_id=task_id)  # 404 for others and out of scope
    error = notice = ""
    try:
        if form is not None and not form.is_valid():
            raise ValidationError([m for found in form.errors.values() for m in found])
        done = action(user)
    except ValidationError as exc:
        error = "；".join(exc.messages)
    else:
        notice = DONE_NOTICES[ConferenceTask.Status(done.status)]
    task = access_task(user=user, task_id=task_id)
    return _task_page(request, user, task, error=error, notice=notice)


@login_required
@require_POST
def task_accept(request: HttpRequest, task_id: int) -> HttpResponse:
    return _acted(request, task_id, lambda user: conference_task_accept(user=user, task_id=task_id))


@login_required
@require_POST
def task_done(request: HttpRequest, task_id: int) -> HttpResponse:
    form = DoneForm(request.POST)
    return _acted(
        request,
        task_id,
        lambda user: conference_task_done(
            user=user, task_id=task_id, answer=form.cleaned_data["answer"]
        ),
        form,
    )


@login_required
@require_POST
def task_decline(request: HttpRequest, task_id: int) -> HttpResponse:
    form = DeclineForm(request.POST)
    return _acted(
        request,
        task_id,
        lambda user: conference_task_decline(
            user=user, task_id=task_id, reason=form.cleaned_data["reason"]
        ),
        form,
    )
