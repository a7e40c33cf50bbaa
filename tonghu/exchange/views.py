"""The exchange pages of a county civil-affairs office (and of a city receiving figures):
import and make packages, download them to send on, and the 跨省通办 requests."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from tonghu import clock
from tonghu.accounts.roles import Capability
from tonghu.accounts.scope import require
from tonghu.accounts.utils import acting_user
from tonghu.exchange import keys as key_store
from tonghu.exchange.figures import superiors
from tonghu.exchange.files import (
    outbox,
    outgoing_package_open,
    package_make,
    package_upload_import,
)
from tonghu.exchange.forms import CertifyAnswerForm, CertifyRequestForm, ExportForm, ImportForm
from tonghu.exchange.models import CertifyRequest, Direction, Side
from tonghu.exchange.packages import PackageError
from tonghu.exchange.selectors import (
    access_certify_request,
    access_child_to_certify,
    certify_requests_for,
    ledger_hint,
    overdue_q,
    packages_for,
)
from tonghu.exchange.services import (
    certify_answer_send,
    certify_request_send,
)

if TYPE_CHECKING:
    from tonghu.accounts.models import User

PAGE_ROWS = 50


def _recipients(user: User) -> list[tuple[str, str]]:
    """The registry's counties, and the office's own city and province for figures."""
    own = user.division_id[:6]
    entries = key_store.registry_load()
    superior = set(superiors(own)) if user.division.level == "county" else set()
    return [
        (code, f"{entry.name or code}（{code}）{'·上级' if code in superior else ''}")
        for code, entry in sorted(entries.items())
        if code != own
    ]


def _home(
    request: HttpRequest,
    user: User,
    *,
    import_form: ImportForm | None = None,
    export_form: ExportForm | None = None,
    imported: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    try:
        recipients = _recipients(user)
        registry_error = ""
    except PackageError as error:
        recipients, registry_error = [], str(error)
    raw = request.GET.get("page", "1")
    page = Paginator(packages_for(user=user).order_by("-handled_at", "-id"), PAGE_ROWS).get_page(
        int(raw) if raw.isdigit() else 1
    )
    requests = certify_requests_for(user=user)
    made = request.GET.get("made", "")
    context: dict[str, Any] = {
        "made": packages_for(user=user).filter(pk=made, direction=Direction.OUT).first()
        if made.isdigit()
        else None,
        "page": page,
        "import_form": import_form or ImportForm(),
        "export_form": export_form or ExportForm(recipients=recipients),
        "registry_error": registry_error,
        "imported": imported or [],
        "is_county": user.division.level == "county",
        "open_requests": requests.filter(status__in=CertifyRequest.OPEN_STATUSES).count(),
        "overdue_requests": requests.filter(overdue_q(clock.today())).count(),
    }
    return render(request, "exchange/home.html", context, status=status)


def _exchange_user(request: HttpRequest) -> User:
    user = acting_user(request)
    require(user, Capability.EXCHANGE_PACKAGES)
    return user


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return _home(request, _exchange_user(request))


@login_required
@require_POST
def package_import(request: HttpRequest) -> HttpResponse:
    user = _exchange_user(request)
    form = ImportForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            imported = package_upload_import(acting_user=user, upload=form.cleaned_data["file"])
        except PackageError as error:
            form.add_error("file", f"交换包未导入：{error}")
        else:
            return _home(request, user, imported=imported.lines)
    return _home(request, user, import_form=form, status=400)


@login_required
@require_POST
def package_export(request: HttpRequest) -> HttpResponse:
    user = _exchange_user(request)
    if user.division.level != "county":
        raise PermissionDenied("交换包由区县民政部门生成。")
    try:
        recipients = _recipients(user)
    except PackageError:
        recipients = []
    form = ExportForm(request.POST, recipients=recipients)
    if form.is_valid():
        try:
            exported = package_make(acting_user=user, **form.cleaned_data)
        except PackageError as error:
            form.add_error(None, error.args[0])
        else:
            return redirect(f"{reverse('exchange:home')}?made={exported.package.pk}")
    return _home(request, user, export_form=form, status=400)


@login_required
def package_download(request: HttpRequest, package_id: int) -> FileResponse:
    path = outgoing_package_open(acting_user=acting_user(request), pk=package_id)
    return FileResponse(
        path.open("rb"),
        content_type="application/octet-stream",
        as_attachment=True,
        filename=path.name,
    )


# --- 跨省通办 ------------------------------------------------------------------------------


def _shown(status: str, today: dt.date) -> Q:
    """The tab's filter: 待处理 (open), 已逾期 (overdue) or 已答复 (answered)."""
    if status == "overdue":
        return overdue_q(today)
    if status == "answered":
        return Q(status=CertifyRequest.Status.ANSWERED)
    return Q(status__in=CertifyRequest.OPEN_STATUSES)


@login_required
def certify_list(request: HttpRequest) -> HttpResponse:
    user = _exchange_user(request)
    if user.division.level != "county":
        raise PermissionDenied("跨省通办核实由区县民政部门办理。")
    shown = request.GET.get("status", "open")
    today = clock.today()
    raw = request.GET.get("page", "1")
    page = Paginator(
        certify_requests_for(user=user).filter(_shown(shown, today)), PAGE_ROWS
    ).get_page(int(raw) if raw.isdigit() else 1)
    context = {"page": page, "shown": shown, "today": today}
    return render(request, "exchange/certify_list.html", context)


@login_required
def certify_detail(request: HttpRequest, request_pk: int) -> HttpResponse:
    user = acting_user(request)
    certify = access_certify_request(user=user, pk=request_pk)
    may_answer = certify.side == Side.ANSWERER and certify.status != CertifyRequest.Status.ANSWERED
    form = CertifyAnswerForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if not may_answer:
            form.add_error(None, "该核实请求不需要本县答复，或已经答复。")
        elif form.is_valid():
            try:
                certify, exported = certify_answer_send(
                    acting_user=user,
                    request_id=str(certify.request_id),
                    out_dir=_outbox(user),
                    **form.cleaned_data,
                )
            except PackageError as error:
                form.add_error(None, error.args[0])
            else:
                return redirect(f"{reverse('exchange:home')}?made={exported.package.pk}")
        status = 400
    context = {
        "certify": certify,
        "form": form,
        "may_answer": may_answer,
        "hint": ledger_hint(certify),
        "today": clock.today(),
    }
    return render(request, "exchange/certify_detail.html", context, status=status)


def _outbox(user: User) -> Path:
    return outbox(user.division_id[:6])


@login_required
@require_POST
def certify_new(request: HttpRequest, child_id: str) -> HttpResponse:
    """A residence-county officer asks the hukou county, from the child's file."""
    user = acting_user(request)
    access_child_to_certify(user=user, child_id=child_id)
    form = CertifyRequestForm(request.POST)
    if form.is_valid():
        try:
            _, exported = certify_request_send(
                acting_user=user, child_id=child_id, out_dir=_outbox(user), **form.cleaned_data
            )
        except PackageError as error:
            form.add_error(None, error.args[0])
        else:
            return redirect(f"{reverse('exchange:home')}?made={exported.package.pk}")
    return render(
        request, "exchange/certify_new.html", {"form": form, "child_id": child_id}, status=400
    )
