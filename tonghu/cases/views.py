"""Thin views: each reads through the case gate or calls one service, and renders."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from tonghu import clock
from tonghu.accounts.models import User
from tonghu.accounts.roles import Capability
from tonghu.accounts.scope import require, within
from tonghu.accounts.utils import acting_user
from tonghu.audit.models import Action
from tonghu.audit.services import audit_record
from tonghu.cases.forms import (
    STEP_FORMS,
    FileForm,
    LinkChildForm,
    ReportForm,
    TransferAcceptForm,
    TransferForm,
)
from tonghu.cases.intake import (
    ReportInput,
    case_file_add,
    case_file_open,
    case_link_child,
    report_file,
)
from tonghu.cases.machine import (
    REPORTER_PHASES,
    STATE_LABELS,
    STEPS,
    Actor,
    State,
    Step,
    steps_from,
)
from tonghu.cases.models import Case
from tonghu.cases.selectors import (
    access_case,
    access_report,
    cases_for,
    overdue_cases,
    reports_of,
    transfers_incoming,
)
from tonghu.cases.services import CaseConflictError, actor_of, case_step, step_refusal
from tonghu.cases.transfers import case_transfer_ask, transfer_accept, transfer_refuse
from tonghu.children.selectors import access_child
from tonghu.conferences.selectors import conference_context
from tonghu.divisions.codes import Level
from tonghu.divisions.models import Division
from tonghu.web.attachments import CONTENT_TYPES, attachment_open

PAGE_SIZE = 50


def _case_user(request: HttpRequest) -> User:
    """Lists: a role without the share is refused (403)."""
    user = acting_user(request)
    require(user, Capability.VIEW_CASES)
    return user


def _object_user(request: HttpRequest, capability: Capability = Capability.VIEW_CASES) -> User:
    """Object pages: a role without the share is answered as for a missing object (404)."""
    user = acting_user(request)
    if not user.can(capability):
        raise Http404("未找到该记录，或您无权查看。")
    return user


@login_required
def case_list(request: HttpRequest) -> HttpResponse:
    user = _case_user(request)
    cases = cases_for(user=user)
    state = request.GET.get("state", "open")
    if state == "open":
        cases = cases.exclude(state=State.CLOSED)
    elif state in State.__members__.values():
        cases = cases.filter(state=state)
    page = Paginator(cases.order_by("due_at", "-opened_at"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    audit_record(actor=user, action=Action.SEARCH, object_type="case", detail=f"案件列表 {state}")
    context = {"page": page, "state": state, "states": STATE_LABELS, "now": clock.now()}
    return render(request, "cases/list.html", context)


@login_required
def overdue(request: HttpRequest) -> HttpResponse:
    """Every overdue step in the user's scope, for supervisors and county staff."""
    user = _case_user(request)
    require(user, Capability.APPROVE_CASES)
    now = clock.now()
    cases = list(overdue_cases(user=user, now=now)[:500])
    audit_record(actor=user, action=Action.SEARCH, object_type="case", detail="逾期案件")
    return render(request, "cases/overdue.html", {"cases": cases, "now": now})


@login_required
def detail(request: HttpRequest, number: str) -> HttpResponse:
    user = _object_user(request)
    case = access_case(user=user, number=number)
    audit_record(
        actor=user,
        action=Action.VIEW,
        object_type="case",
        object_ids=[case.number],
        child_ids=[case.child.child_id] if case.child else [],
        detail="查看案件",
    )
    return _detail(request, user=user, case=case)


def _detail(
    request: HttpRequest,
    *,
    user: User,
    case: Case,
    error: object = None,
    failed: tuple[Step, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    forms = []
    for step in steps_from(State(case.state)):
        if step_refusal(user=user, case=case, step=step) is None:
            bound = failed[1] if failed and failed[0] is step else STEP_FORMS[step](case=case)
            forms.append({"step": step, "label": STEPS[step].label, "form": bound})
    actor = actor_of(user)
    context = {
        "case": case,
        "reports": case.reports.select_related("place").order_by("reported_at"),
        "events": case.events.select_related("by"),
        "files": case.files.select_related("uploaded_by"),
        "transfers": case.transfers.select_related("to_county"),
        "step_forms": forms,
        "now": clock.now(),
        "error": error,
        "file_form": FileForm(),
        "can_link": case.child is None and case.is_open and actor in _LINKERS,
        "link_form": LinkChildForm(),
        "can_transfer": case.is_open and actor is Actor.COUNTY_STAFF,
        "transfer_form": TransferForm(case=case) if case.is_open else None,
        "done": request.GET.get("done", ""),
        **conference_context(user=user, case=case),
    }
    return render(request, "cases/detail.html", context, status=status)


_LINKERS = frozenset({Actor.SUPERVISOR, Actor.COUNTY_STAFF})


@login_required
@require_POST
def step(request: HttpRequest, number: str, step: str) -> HttpResponse:
    user = _object_user(request)
    case = access_case(user=user, number=number)
    try:
        chosen = Step(step)
    except ValueError as missing:
        raise Http404("没有这个办理步骤。") from missing
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        version = -1
    try:
        case_step(user=user, number=number, step=chosen, version=version, data=request.POST)
    except CaseConflictError as conflict:
        fresh = access_case(user=user, number=number)
        return _detail(request, user=user, case=fresh, error=str(conflict), status=409)
    except ValidationError as refused:
        form = STEP_FORMS[chosen](request.POST, case=case)
        form.is_valid()
        message = (
            refused.messages[0] if not hasattr(refused, "error_dict") else "请检查填写的内容。"
        )
        return _detail(
            request, user=user, case=case, error=message, failed=(chosen, form), status=400
        )
    return redirect(f"{reverse('cases:detail', args=[number])}?done={chosen.value}")


@login_required
@require_POST
def file_add(request: HttpRequest, number: str) -> HttpResponse:
    user = _object_user(request)
    case = access_case(user=user, number=number)
    form = FileForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            case_file_add(
                user=user,
                number=number,
                upload=form.cleaned_data["file"],
                description=form.cleaned_data["description"],
            )
        except ValidationError as refused:
            return _detail(request, user=user, case=case, error=_message(refused), status=400)
        return redirect(f"{reverse('cases:detail', args=[number])}?done=file")
    return _detail(
        request, user=user, case=case, error="请选择要上传的文件并填写说明。", status=400
    )


@login_required
def file_download(request: HttpRequest, number: str, file_id: int) -> FileResponse:
    path, kept = case_file_open(user=_object_user(request), number=number, file_id=file_id)
    return FileResponse(
        attachment_open(path),
        content_type=CONTENT_TYPES[kept.file_type],
        as_attachment=True,
        filename=f"案件材料-{number}-{kept.pk}{path.suffix}",
    )


@login_required
@require_POST
def link_child(request: HttpRequest, number: str) -> HttpResponse:
    user = _object_user(request)
    case = access_case(user=user, number=number)
    try:
        joined = case_link_child(
            user=user, number=number, child_id=request.POST.get("child_id", "")
        )
    except ValidationError as refused:
        return _detail(request, user=user, case=case, error=_message(refused), status=400)
    return redirect(f"{reverse('cases:detail', args=[joined.number])}?done=linked")


@login_required
@require_POST
def transfer(request: HttpRequest, number: str) -> HttpResponse:
    user = _object_user(request)
    case = access_case(user=user, number=number)
    try:
        case_transfer_ask(
            user=user,
            number=number,
            to_county=request.POST.get("to_county", "").strip(),
            reason=request.POST.get("reason", ""),
        )
    except ValidationError as refused:
        return _detail(request, user=user, case=case, error=_message(refused), status=400)
    return redirect(f"{reverse('cases:detail', args=[number])}?done=transfer")


@login_required
def transfers(request: HttpRequest) -> HttpResponse:
    user = _case_user(request)
    incoming = list(transfers_incoming(user=user))
    places = _places_by_county(incoming)
    rows = [(item, TransferAcceptForm(places=places[item.to_county_id])) for item in incoming]
    audit_record(actor=user, action=Action.SEARCH, object_type="case_transfer", detail="待接收移交")
    context = {"rows": rows, "error": request.GET.get("error", ""), "now": clock.now()}
    return render(request, "cases/transfers.html", context)


def _places_by_county(incoming: list[Any]) -> dict[str, list[Division]]:
    counties = {item.to_county_id for item in incoming}
    places: dict[str, list[Division]] = {county: [] for county in counties}
    for county in counties:
        places[county] = list(
            Division.objects.filter(
                within("code", county[:6]), level__in=[Level.TOWN, Level.VILLAGE]
            ).order_by("code")
        )
    return places


@login_required
@require_POST
def transfer_answer(request: HttpRequest, transfer_id: int, answer: str) -> HttpResponse:
    user = _object_user(request)
    try:
        if answer == "accept":
            case = transfer_accept(
                user=user, transfer_id=transfer_id, division_code=request.POST.get("division", "")
            )
            return redirect(f"{reverse('cases:detail', args=[case.number])}?done=accepted")
        transfer_refuse(user=user, transfer_id=transfer_id, answer=request.POST.get("answer", ""))
    except ValidationError as refused:
        return render(
            request,
            "cases/transfers.html",
            {"rows": [], "error": _message(refused), "now": clock.now()},
            status=400,
        )
    return redirect("cases:transfers")


def _message(error: ValidationError) -> str:
    return "；".join(error.messages)


# --- reports ------------------------------------------------------------------------


def _reporter(request: HttpRequest) -> User:
    user = acting_user(request)
    require(user, Capability.FILE_REPORTS)
    return user


def report_places(user: User) -> list[Division]:
    """Where a report may say the child was found: the reporter's county, its towns and
    villages (a city-level user: the counties of the city and theirs)."""
    level = Level(user.division.level)
    area = (
        user.division_id[: Level.COUNTY.prefix_length]
        if level
        not in (
            Level.PROVINCE,
            Level.CITY,
        )
        else user.division.prefix
    )
    return list(
        Division.objects.filter(
            within("code", area), level__in=[Level.COUNTY, Level.TOWN, Level.VILLAGE]
        ).order_by("code")
    )


@login_required
def report_new(request: HttpRequest) -> HttpResponse:
    user = _reporter(request)
    staff = user.can(Capability.VIEW_CHILDREN)
    places = report_places(user)
    if request.method != "POST":
        initial = {
            "organisation": user.organisation,
            "reporter_kind": "staff" if staff or user.role == "department_officer" else "",
            "occurred_at": clock.now().astimezone().strftime("%Y-%m-%dT%H:%M"),
        }
        form = ReportForm(initial=initial, places=places, staff=staff)
        return render(request, "cases/report_new.html", {"form": form})
    form = ReportForm(request.POST, request.FILES, places=places, staff=staff)
    error = ""
    if form.is_valid():
        try:
            filed = report_file(
                user=user,
                report=_report_input(user, form),
                files=request.FILES.getlist("evidence"),
            )
        except ValidationError as refused:
            error = _message(refused)
        else:
            return redirect("reports:receipt", receipt_no=filed.receipt_no)
    return render(request, "cases/report_new.html", {"form": form, "error": error}, status=400)


def _report_input(user: User, form: ReportForm) -> ReportInput:
    data = form.cleaned_data
    child = None
    if data.get("child_id"):
        try:
            child = access_child(user=user, child_id=data["child_id"].strip())
        except Http404 as missing:
            raise ValidationError("未在您辖区的台账中找到该儿童编号，请核对或不填。") from missing
    return ReportInput(
        reporter_kind=data["reporter_kind"],
        organisation=data["organisation"],
        situations=data["situations"],
        place=form.place_division,
        place_detail=data["place_detail"],
        occurred_at=data["occurred_at"],
        observed=data["observed"],
        child_name=data["child_name"],
        child_sex=data["child_sex"],
        child_age=data["child_age"],
        child_id_number=data["child_id_number"],
        child=child,
    )


@login_required
def my_reports(request: HttpRequest) -> HttpResponse:
    user = _reporter(request)
    page = Paginator(reports_of(user=user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "cases/my_reports.html", {"page": page, "phases": REPORTER_PHASES})


@login_required
def receipt(request: HttpRequest, receipt_no: str) -> HttpResponse:
    """The reporter's view of a report: its receipt and the phase of the case, nothing more."""
    user = _object_user(request, Capability.FILE_REPORTS)
    report = access_report(user=user, receipt_no=receipt_no)
    case = report.case.merged_into or report.case
    context = {"report": report, "phase": REPORTER_PHASES[State(case.state)]}
    return render(request, "cases/receipt.html", context)
