from __future__ import annotations

from typing import Annotated, Any

from django.conf import settings
from django.http import HttpRequest
from ninja import Router, Schema
from ninja.security import APIKeyCookie, HttpBearer
from pydantic import StringConstraints

from tonghu.accounts.models import ApiToken, User
from tonghu.accounts.roles import ROLE_CAPABILITIES, Role
from tonghu.accounts.utils import acting_user

router = Router(tags=["用户"])

# A text parameter (path or query). PostgreSQL text cannot hold NUL, so a NUL in a lookup
# would fail in the database (500): it is refused up front as invalid (422) instead.
Text = Annotated[str, StringConstraints(pattern=r"^[^\x00]*$")]


class ErrorOut(Schema):
    """A refused request (401 not signed in, 403 role without the share, 404 missing or out
    of scope): what went wrong, in words."""

    detail: str


class InvalidOut(Schema):
    """Parameters that failed validation (422): one entry per problem, as pydantic has it."""

    detail: list[dict[str, Any]]


def answers(ok: object, *errors: int) -> dict[int, object]:
    """The documented responses of an authenticated operation, so that clients and the
    OpenAPI document know every status it may answer: ``ok`` (200); 401 (no valid
    credentials, or a session that still owes its two-factor code); 403 (a session whose
    role must first set up two-factor sign-in, or a role without the share); and the
    operation's own ``errors`` (404, 422)."""
    table: dict[int, object] = {200: ok, 401: ErrorOut, 403: ErrorOut}
    for code in errors:
        table[code] = InvalidOut if code == 422 else ErrorOut
    return table


class SessionAuth(APIKeyCookie):
    """The browser's logged-in session (CSRF-checked for unsafe methods)."""

    param_name = settings.SESSION_COOKIE_NAME

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        user = request.user
        return user if isinstance(user, User) and user.is_active else None


class TokenAuth(HttpBearer):
    """``Authorization: Bearer <token>`` with a token from ``tonghu token create``."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        found = ApiToken.objects.matching(token)
        if found is None:
            return None
        request.user = found.user
        return found.user


class MeOut(Schema):
    username: str
    role: str
    role_label: str
    division_code: str
    division_name: str
    department: str
    capabilities: list[str]


@router.get("/me", response=answers(MeOut), summary="当前用户")
def me(request: HttpRequest) -> MeOut:
    user = acting_user(request)
    return MeOut(
        username=user.username,
        role=user.role,
        role_label=user.get_role_display(),
        division_code=user.division_id,
        division_name=user.division.name,
        department=user.department,
        capabilities=sorted(ROLE_CAPABILITIES[Role(user.role)]),
    )
