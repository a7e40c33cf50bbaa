from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_POST

from tonghu.accounts.roles import Capability
from tonghu.accounts.scope import require
from tonghu.accounts.utils import acting_user
from tonghu.children.ledger import field_labels
from tonghu.linkage.selectors import access_pair, decision_for, pair_records, review_pairs_for
from tonghu.linkage.services import pair_decide
from tonghu.services.lists import profile_for

# The fields shown side by side, in this order (those either record states).
COMPARED = (
    "name", "sex", "birth_date", "id_number", "hukou_code", "residence_code",
    "residence_address", "guardian_name", "mother_name", "father_name", "phone", "school",
    "stage",
)  # fmt: skip


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    user = acting_user(request)
    require(user, Capability.MANAGE_ROUNDS)
    raw = request.GET.get("page", "1")
    page = Paginator(review_pairs_for(user=user), 50).get_page(int(raw) if raw.isdigit() else 1)
    return render(request, "linkage/queue.html", {"page": page})


@login_required
def pair_detail(request: HttpRequest, pair_id: int) -> HttpResponse:
    return _pair_page(request, pair_id)


@login_required
@require_POST
def decide(request: HttpRequest, pair_id: int) -> HttpResponse:
    same = request.POST.get("same")
    if same in {"1", "0"}:
        pair_decide(
            user=acting_user(request),
            pair_id=pair_id,
            same=same == "1",
            note=request.POST.get("note", ""),
        )
    return _pair_page(request, pair_id, invalid=same not in {"1", "0"})


def _pair_page(request: HttpRequest, pair_id: int, *, invalid: bool = False) -> HttpResponse:
    pair = access_pair(user=acting_user(request), pair_id=pair_id)
    left, right = pair_records(pair=pair)
    labels = field_labels()
    rows = [
        (labels.get(name, name), _value(left, name), _value(right, name))
        for name in COMPARED
        if _value(left, name) or _value(right, name)
    ]
    context = {
        "pair": pair,
        "left": left,
        "right": right,
        "rows": rows,
        "decision": decision_for(pair=pair),
        "invalid": invalid,
        "threshold": profile_for(acting_user(request)).linkage.match_threshold,
    }
    return render(request, "linkage/pair.html", context)


def _value(record: object, name: str) -> str:
    values = getattr(record, "values", None) or {}
    value = values.get(name)
    if isinstance(value, bool):
        return "是" if value else "否"
    return "" if value is None else str(value)
