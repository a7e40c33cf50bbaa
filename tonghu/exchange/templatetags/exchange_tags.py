"""``{% exchange_section child %}``: the other county's information on a child's file."""

from __future__ import annotations

from typing import Any

from django import template
from django.http import HttpRequest
from django.middleware.csrf import get_token

from tonghu import clock
from tonghu.accounts.models import User
from tonghu.accounts.roles import Capability
from tonghu.children.models import Child
from tonghu.exchange.forms import CertifyRequestForm
from tonghu.exchange.selectors import child_exchange
from tonghu.services.lists import profile_for

register = template.Library()

# The file group the hukou statuses belong to: roles that may not see it see no section.
GROUP = "救助帮扶情况"


@register.inclusion_tag("exchange/_child_section.html", takes_context=True)
def exchange_section(context: dict[str, Any], child: Child) -> dict[str, Any]:
    """The section for a child the page has already opened through the scope gate."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if not isinstance(user, User):
        return {"shown": None}
    groups = {group.title for group in profile_for(user).ledger_for(user.role)}
    if GROUP not in groups:
        return {"shown": None}
    section: dict[str, Any] = {"shown": child_exchange(child=child), "today": clock.today()}
    if isinstance(request, HttpRequest) and may_ask_hukou_county(user, child):
        section["certify_form"] = CertifyRequestForm()
        section["child_id"] = child.child_id
        section["hukou_county"] = child.hukou_code[:6]
        section["csrf_token"] = get_token(request)
    return section


def may_ask_hukou_county(user: User, child: Child) -> bool:
    """A county office, about a child whose hukou is in another county (跨省通办)."""
    hukou = child.hukou_code[:6]
    return (
        user.can(Capability.EXCHANGE_PACKAGES)
        and user.division.level == "county"
        and len(hukou) == 6
        and hukou.isdigit()
        and hukou != user.division_id[:6]
    )


@register.filter
def certify_status(request: Any, today: Any) -> str:
    """已发出 / 待答复 / 已答复, or 已逾期 once open past its due date."""
    return str(request.status_label(today))
