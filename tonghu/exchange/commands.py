"""What the exchange commands share: who acts (``--user`` or ``--county``) and refusals."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.core.management.base import CommandError, CommandParser

from tonghu.commands import option_county
from tonghu.exchange.packages import PackageError

if TYPE_CHECKING:
    from tonghu.accounts.models import User
    from tonghu.exchange.services import Exported


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


def add_export_arguments(parser: CommandParser, *, recipient_help: str) -> None:
    """``--for``, ``--out`` and who acts: what every package-writing command takes."""
    parser.add_argument("--for", dest="recipient", required=True, help=recipient_help)
    parser.add_argument("--out", required=True, help="交换包写入的目录")
    add_actor(parser)


def run_export(
    options: dict[str, Any], exporter: Callable[..., Exported], **extra: Any
) -> Exported:
    """Write a package with ``exporter`` for the command's options; refusals in Chinese."""
    user, county = actor(options)
    recipient = option_county(options["recipient"], option="--for")
    try:
        return exporter(
            county=county,
            recipient=recipient,
            out_dir=Path(options["out"]),
            acting_user=user,
            **extra,
        )
    except PackageError as error:
        raise CommandError(str(error)) from None
