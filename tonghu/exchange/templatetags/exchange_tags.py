"""``{% exchange_section child %}``: the other county's information on a child's file."""

from __future__ import annotations

from typing import Any

from django import template

from tonghu import clock
from tonghu.accounts.models import User
from tonghu.children.models import Child
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
    return {"shown": child_exchange(child=child), "today": clock.today()}


@register.filter
def certify_status(request: Any, today: Any) -> str:
    """已发出 / 待答复 / 已答复, or 已逾期 once open past its due date."""
    return str(request.status_label(today))
