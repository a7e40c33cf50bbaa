from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_POST

from tonghu.accounts.models import User
from tonghu.accounts.roles import Capability
from tonghu.accounts.scope import require
from tonghu.accounts.utils import acting_user
from tonghu.privacy.sensitive import mask_phone
from tonghu.privacy.views import export_with_reason
from tonghu.roster.forms import TrainingForm, WorkerForm
from tonghu.roster.selectors import (
    ONLY_FILTERS,
    access_worker,
    access_worker_to_edit,
    access_worker_to_train,
    display_name,
    may_edit_profile,
    may_record_training,
    phones_visible,
    profile_of,
    roster_for,
    training_hours,
    trainings_of,
)
from tonghu.roster.services import phones_shown, roster_export, training_add, worker_update
from tonghu.web.exports import xlsx_response


def _only(request: HttpRequest) -> str:
    only = request.GET.get("only", "")
    return only if only in ONLY_FILTERS else ""


@login_required
def roster(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    only = _only(request)
    found = roster_for(user=user, today=timezone.localdate(), only=only)
    phones_shown(
        user=user,
        worker_ids=[worker.user_id for worker in found.workers if worker.phone_full],
        where="台账",
    )
    context = {
        "roster": found,
        "only": only,
        "filters": ONLY_FILTERS,
        "counts": found.counts,
        "phones_full": phones_visible(user),
    }
    return render(request, "roster/roster.html", context)


@login_required
def export(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    require(user, Capability.VIEW_CHILDREN)
    only = _only(request)

    def export_now(reason: str) -> HttpResponse:
        content = roster_export(user=user, today=timezone.localdate(), reason=reason, only=only)
        return xlsx_response(content, f"儿童主任台账-{user.division_id[:6]}.xlsx")

    return export_with_reason(request, title="导出儿童主任台账", export=export_now)


@login_required
def worker(request: HttpRequest, worker_id: int) -> HttpResponse:
    return _worker_page(request, access_worker(user=acting_user(request), worker_id=worker_id))


@login_required
@require_POST
def training_new(request: HttpRequest, worker_id: int) -> HttpResponse:
    user = acting_user(request)
    access_worker_to_train(user=user, worker_id=worker_id)  # 404 before reading the form
    form = TrainingForm(request.POST)
    return _saved_or_form(
        request, worker_id, form, saved="已登记培训记录。",
        save=lambda data: training_add(user=user, worker_id=worker_id, **data),
    )  # fmt: skip


@login_required
@require_POST
def worker_edit(request: HttpRequest, worker_id: int) -> HttpResponse:
    user = acting_user(request)
    access_worker_to_edit(user=user, worker_id=worker_id)  # 404 before reading the form
    form = WorkerForm(request.POST)
    return _saved_or_form(
        request, worker_id, form, saved="已保存联系方式和任职信息。",
        save=lambda data: worker_update(user=user, worker_id=worker_id, **data),
    )  # fmt: skip


def _saved_or_form(
    request: HttpRequest,
    worker_id: int,
    form: TrainingForm | WorkerForm,
    *,
    save: Callable[[dict[str, Any]], object],
    saved: str,
) -> HttpResponse:
    """Save a valid form and show the worker's page saying so; otherwise show the page with
    the form and its errors (a refusal from the service as a form error)."""
    user = acting_user(request)
    if form.is_valid():
        try:
            save(form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return _worker_page(request, access_worker(user=user, worker_id=worker_id), saved=saved)
    found = access_worker(user=user, worker_id=worker_id)
    if isinstance(form, TrainingForm):
        return _worker_page(request, found, training_form=form)
    return _worker_page(request, found, worker_form=form)


def _worker_page(
    request: HttpRequest,
    found: User,
    *,
    saved: str = "",
    training_form: TrainingForm | None = None,
    worker_form: WorkerForm | None = None,
) -> HttpResponse:
    user = acting_user(request)
    profile = profile_of(found)
    phone = profile.phone if profile else ""
    full = phones_visible(user)
    if full and phone:
        phones_shown(user=user, worker_ids=[found.pk], where="人员页面")
    can_edit = may_edit_profile(user)
    if worker_form is None and can_edit:
        worker_form = WorkerForm(
            initial={
                "phone": phone,
                "appointed_on": profile.appointed_on if profile else None,
                "note": profile.note if profile else "",
            }
        )
    can_train = may_record_training(user, found)
    context = {
        "worker": found,
        "name": display_name(found),
        "profile": profile,
        "phone": phone if full else mask_phone(phone),
        "trainings": trainings_of(worker=found),
        "hours": training_hours(worker=found),
        "can_edit": can_edit,
        "can_train": can_train,
        "worker_form": worker_form,
        "training_form": training_form or (TrainingForm() if can_train else None),
        "saved": saved,
    }
    return render(request, "roster/worker.html", context)
