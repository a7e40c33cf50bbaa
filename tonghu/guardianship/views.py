from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import Form
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_POST

from tonghu.accounts.models import User
from tonghu.accounts.roles import Capability
from tonghu.accounts.scope import access
from tonghu.accounts.utils import acting_user
from tonghu.children.models import Child
from tonghu.children.selectors import access_child
from tonghu.guardianship.forms import (
    AgreementForm,
    AssessmentForm,
    ContactForm,
    HandleForm,
    UnfitForm,
)
from tonghu.guardianship.models import InterventionTask
from tonghu.guardianship.selectors import (
    handles_interventions,
    intervention_tasks_for,
    lapsed_contacts,
    latest_assessments,
)
from tonghu.guardianship.services import (
    agreement_file_open,
    agreement_judge_unfit,
    agreement_record,
    assessment_record,
    contact_record,
    guardianship_open,
    intervention_handle,
    intervention_tasks_page,
    profile_for_child,
)
from tonghu.privacy.services import may_reveal
from tonghu.web.attachments import attachment_open

# 赋色管理: the CSS class of each grade colour.
COLOUR_CLASSES = {
    "红": "grade-red",
    "橙": "grade-orange",
    "黄": "grade-yellow",
    "绿": "grade-green",
}
SAVED = {
    "assessment": "已保存评估。",
    "agreement": "已登记委托照护协议。",
    "unfit": "已判定被委托照护人不适当，并已提醒区县民政工作人员和乡镇（街道）儿童督导员。",
    "contact": "已登记亲子联系。",
}


@login_required
def child_page(request: HttpRequest, child_id: str) -> HttpResponse:
    child = guardianship_open(user=acting_user(request), child_id=child_id)
    return _page(request, child=child)


def _writer(request: HttpRequest) -> User:
    """A user who may record; others are answered as for a child out of scope."""
    user = acting_user(request)
    if not user.can(Capability.EDIT_CHILDREN):
        raise Http404("未找到该记录，或您无权查看。")
    return user


@login_required
@require_POST
def assess(request: HttpRequest, child_id: str) -> HttpResponse:
    user = _writer(request)
    child = access_child(user=user, child_id=child_id)
    profile = profile_for_child(child=child, day=timezone.localdate())
    form = AssessmentForm(request.POST, assessment=profile.assessment)
    if form.is_valid():
        try:
            assessment_record(
                user=user,
                child_id=child_id,
                answers=form.answers(),
                assessed_on=form.cleaned_data["assessed_on"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return _page(request, child=child, saved="assessment")
    return _page(request, child=child, forms={"assessment_form": form})


@login_required
@require_POST
def agreement_add(request: HttpRequest, child_id: str) -> HttpResponse:
    user = _writer(request)
    child = access_child(user=user, child_id=child_id)
    form = AgreementForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            agreement_record(
                user=user,
                child_id=child_id,
                carer_name=data["carer_name"],
                relationship=data["relationship"],
                phone=data["phone"],
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
                upload=data["file"] or None,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return _page(request, child=child, saved="agreement")
    return _page(request, child=child, forms={"agreement_form": form})


@login_required
@require_POST
def agreement_unfit(request: HttpRequest, child_id: str, agreement_id: int) -> HttpResponse:
    user = _writer(request)
    child = access_child(user=user, child_id=child_id)
    if not child.care_agreements.filter(pk=agreement_id).exists():
        raise Http404("未找到该记录，或您无权查看。")
    form = UnfitForm(request.POST)
    if form.is_valid():
        try:
            agreement_judge_unfit(
                user=user,
                child_id=child_id,
                agreement_id=agreement_id,
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return _page(request, child=child, saved="unfit")
    return _page(request, child=child, forms={"unfit_form": form}, unfit_id=agreement_id)


@login_required
def agreement_file(request: HttpRequest, child_id: str, agreement_id: int) -> FileResponse:
    path, content_type = agreement_file_open(
        user=acting_user(request), child_id=child_id, agreement_id=agreement_id
    )
    response = FileResponse(
        attachment_open(path),
        as_attachment=True,
        filename=f"委托照护协议-{child_id}-{agreement_id}{path.suffix}",
        content_type=content_type,
    )
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def contact_add(request: HttpRequest, child_id: str) -> HttpResponse:
    user = _writer(request)
    child = access_child(user=user, child_id=child_id)
    form = ContactForm(request.POST)
    if form.is_valid():
        try:
            contact_record(user=user, child_id=child_id, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return _page(request, child=child, saved="contact")
    return _page(request, child=child, forms={"contact_form": form})


def _page(
    request: HttpRequest,
    *,
    child: Child,
    forms: dict[str, Form] | None = None,
    saved: str = "",
    unfit_id: int | None = None,
) -> HttpResponse:
    user = acting_user(request)
    today = timezone.localdate()
    profile = profile_for_child(child=child, day=today)
    names = {item.code: item.name for item in profile.assessment.indicators}
    history = list(latest_assessments(child=child))
    lapsed = lapsed_contacts(children=Child.objects.filter(pk=child.pk), today=today)
    context: dict[str, Any] = {
        "child": child,
        "latest": history[0] if history else None,
        "latest_class": COLOUR_CLASSES.get(history[0].colour, "") if history else "",
        "history": [
            {
                "item": item,
                "css": COLOUR_CLASSES.get(item.colour, ""),
                "answers": [
                    (names.get(code, code), answer) for code, answer in item.answers.items()
                ],
            }
            for item in history
        ],
        "open_task": child.intervention_tasks.filter(status=InterventionTask.Status.OPEN).first(),
        "agreements": child.care_agreements.select_related("judged_by"),
        "contacts": child.parent_contacts.select_related("recorded_by")[:30],
        "lapsed": lapsed[0] if lapsed else None,
        "contact_limit": profile.visits.parent_contact_every_days,
        "can_edit": user.can(Capability.EDIT_CHILDREN),
        "phones_full": may_reveal(user),
        "saved": SAVED.get(saved, ""),
        "unfit_id": unfit_id,
        "assessment_form": AssessmentForm(assessment=profile.assessment),
        "agreement_form": AgreementForm(),
        "contact_form": ContactForm(),
        "unfit_form": UnfitForm(),
        "basis": profile.assessment.basis,
    }
    context.update(forms or {})
    return render(request, "guardianship/child.html", context)


@login_required
def task_list(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    if not handles_interventions(user):
        raise PermissionDenied("您的角色无权使用此功能。")
    page = intervention_tasks_page(user=user, page_number=_page_number(request))
    return render(request, "guardianship/tasks.html", {"page": page})


@login_required
@require_POST
def task_handle(request: HttpRequest, task_id: int) -> HttpResponse:
    user = acting_user(request)
    access(intervention_tasks_for(user=user), pk=task_id)  # 404 for others and out of scope
    form = HandleForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            intervention_handle(user=user, task_id=task_id, note=form.cleaned_data["note"])
        except ValidationError as exc:
            error = "；".join(exc.messages)
    else:
        error = "；".join(str(message) for messages in form.errors.values() for message in messages)
    task = access(intervention_tasks_for(user=user), pk=task_id)
    if request.headers.get("HX-Request"):
        return render(request, "guardianship/_task.html", {"task": task, "error": error})
    page = intervention_tasks_page(user=user, page_number=1)
    context = {"page": page, "acted": task, "error": error}
    return render(request, "guardianship/tasks.html", context)


def _page_number(request: HttpRequest) -> int:
    raw = request.GET.get("page", "1")
    return int(raw) if raw.isdigit() else 1
