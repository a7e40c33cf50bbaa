from __future__ import annotations

from django.http import HttpRequest

from tonghu.accounts.models import User


def acting_user(request: HttpRequest) -> User:
    """The logged-in user of a view already guarded by ``login_required`` (or API auth)."""
    user = request.user
    if not isinstance(user, User):
        raise TypeError("acting_user needs an authenticated request")
    return user
