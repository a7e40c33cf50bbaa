from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from ninja import Router, Schema
from ninja.security import APIKeyCookie, HttpBearer

from tonghu.accounts.models import ApiToken, User
from tonghu.accounts.roles import ROLE_CAPABILITIES, Role
from tonghu.accounts.utils import acting_user

router = Router(tags=["用户"])


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


@router.get("/me", response=MeOut, summary="当前用户")
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
