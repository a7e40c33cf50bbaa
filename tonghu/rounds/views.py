from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from tonghu.accounts.roles import Capability
from tonghu.accounts.scope import require
from tonghu.accounts.utils import acting_user
from tonghu.feeds.forms import UploadForm
from tonghu.feeds.selectors import imports_for
from tonghu.linkage.selectors import review_progress
from tonghu.rounds.forms import RoundForm
from tonghu.rounds.models import RoundStatus
from tonghu.rounds.selectors import access_round, round_comparison, rounds_for
from tonghu.rounds.services import round_open


@login_required
@require_http_methods(["GET", "POST"])
def round_list(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    require(user, Capability.UPLOAD_FEEDS)
    form = RoundForm(request.POST or None)
    if request.method == "POST":
        require(user, Capability.MANAGE_ROUNDS)
        if form.is_valid():
            try:
                created = round_open(as_of=form.cleaned_data["as_of"], acting_user=user)
            except ValidationError as exc:
                form.add_error("as_of", exc)
            else:
                return redirect("rounds:detail", round_id=created.pk)
    context = {
        "rounds": rounds_for(user=user),
        "form": form,
        "can_open": user.can(Capability.MANAGE_ROUNDS),
    }
    return render(request, "rounds/list.html", context, status=400 if form.errors else 200)


@login_required
def round_detail(request: HttpRequest, round_id: int) -> HttpResponse:
    user = acting_user(request)
    round_ = access_round(user=user, round_id=round_id)
    context = {
        "round": round_,
        "imports": imports_for(user=user).filter(round=round_),
        "form": UploadForm(user=user),
        "comparison": round_comparison(round_=round_) if round_.status == RoundStatus.DONE else [],
        # The review queue's progress, for the roles that decide on it.
        "review": review_progress(round_=round_)
        if round_.status == RoundStatus.DONE and user.can(Capability.MANAGE_ROUNDS)
        else None,
    }
    return render(request, "rounds/detail.html", context)
