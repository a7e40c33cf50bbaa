"""What the exchange commands share: who acts (``--user`` or ``--county``) and refusals."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.management.base import CommandError, CommandParser

from tonghu.commands import option_county

if TYPE_CHECKING:
    from tonghu.accounts.models import User


def add_actor(parser: CommandParser, *, user_required: bool = False) -> None:
    if not user_required:
        parser.add_argument("--county", metavar="CODE", help="本县代码（6位）")
    parser.add_argument(
        "--user",
        metavar="USERNAME",
        required=user_required,
        help="以哪位区县民政工作人员的名义办理（记入审计日志）",
    )


def actor(options: dict[str, Any]) -> tuple[User | None, str | None]:
    """The acting user (if named) and the county option (if given)."""
    from tonghu.accounts.models import User  # noqa: PLC0415  (apps are ready only here)

    county = options.get("county")
    county = option_county(county) if county else None
    username = options.get("user")
    if not username:
        return None, county
    user = User.objects.filter(username=username, is_active=True).select_related("division").first()
    if user is None:
        raise CommandError(f"用户 {username} 不存在或已停用")
    return user, county
