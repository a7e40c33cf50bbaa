from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from tonghu.accounts.utils import acting_user
from tonghu.audit.models import Action
from tonghu.audit.services import audit_record
from tonghu.feeds.forms import UploadForm
from tonghu.feeds.reports import import_report_xlsx
from tonghu.feeds.selectors import access_import, imports_for
from tonghu.feeds.services import feed_import
from tonghu.feeds.summary import import_summary
from tonghu.feeds.uploads import UploadError
from tonghu.rounds.selectors import access_round
from tonghu.web.exports import xlsx_response


@login_required
@require_POST
def upload(request: HttpRequest, round_id: int) -> HttpResponse:
    """Take one file into the round and answer with its summary (a fragment for htmx)."""
    user = acting_user(request)
    round_ = access_round(user=user, round_id=round_id)
    form = UploadForm(request.POST, request.FILES, user=user)
    error = ""
    if form.is_valid():
        try:
            outcome = feed_import(
                round_=round_,
                upload=form.cleaned_data["file"],
                source_name=form.cleaned_data["source"],
                acting_user=user,
            )
        except UploadError as exc:
            error = str(exc)
        else:
            context = {
                "summary": import_summary(outcome.feed_import),
                "created": outcome.created,
                # The round page's list of imports is refreshed out of band (htmx).
                "imports": imports_for(user=user).filter(round=round_),
                "oob": True,
            }
            return render(request, "feeds/_summary.html", context)
    else:
        error = "；".join(str(message) for messages in form.errors.values() for message in messages)
    return render(request, "feeds/_error.html", {"error": error}, status=400)


@login_required
def import_detail(request: HttpRequest, import_id: int) -> HttpResponse:
    found = access_import(user=acting_user(request), import_id=import_id)
    return render(request, "feeds/detail.html", {"summary": import_summary(found), "created": True})


@login_required
def import_report(request: HttpRequest, import_id: int) -> HttpResponse:
    user = acting_user(request)
    found = access_import(user=user, import_id=import_id)
    content = import_report_xlsx(found)
    audit_record(
        actor=user,
        action=Action.EXPORT,
        object_type="feed_import",
        object_ids=[str(found.pk)],
        detail="下载拒收与警告清单",
    )
    return xlsx_response(content, f"拒收与警告-{found.file_name}.xlsx")
