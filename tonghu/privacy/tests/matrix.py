"""Objects the scope matrix (tonghu/accounts/tests/test_scope_matrix.py) asks the privacy
URLs about: a break-the-glass grant opened by a county's staff member inside the role's
county (inside) or in the neighbouring county (outside), each about a child outside the
grantee's own county (that is what breaking the glass is for)."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from tonghu import clock
from tonghu.accounts.models import User
from tonghu.accounts.roles import Role
from tonghu.conftest import World, make_user
from tonghu.privacy.models import EmergencyAccess

REVIEWERS = frozenset({Role.AUDITOR})
# Who may break the glass under the default profile (privacy.break_glass_roles).
BREAKERS = frozenset({Role.COUNTY_STAFF})
# The grantee's county -> the village of the child the grantee looked at (another county).
_GRANTS = {
    "410402000000": "410403001001",  # 新华区 staff, a child in 卫东区
    "410403000000": "410102001001",  # 卫东区 staff, a child in 郑州
}


def grant(world: World, role: Role, inside: bool) -> int:
    """The unreviewed grant opened in the role's county (made on first use)."""
    county = "410402000000" if inside else "410403000000"
    username = f"u_glass_{county[:6]}"
    grantee = User.objects.filter(username=username).first() or make_user(
        username, Role.COUNTY_STAFF, county
    )
    found = EmergencyAccess.objects.filter(user=grantee).first()
    if found is not None:
        return found.pk
    now = clock.now()
    return EmergencyAccess.objects.create(
        user=grantee,
        child=world.children_by_home[_GRANTS[county]],
        reason="夜间接报儿童走失，需核对监护人联系方式",
        opened_at=now,
        expires_at=now + dt.timedelta(hours=24),
    ).pk


def review_url(world: World, role: Role, inside: bool) -> str:
    return reverse("privacy:review_one", args=[grant(world, role, inside)])


def review_marker(world: World, role: Role, inside: bool) -> str:
    return f'action="{review_url(world, role, inside)}"'


def reviews_url(world: World, role: Role, inside: bool) -> str:
    """Both grants exist before the page is asked for: only the in-scope one may show."""
    grant(world, role, True)
    grant(world, role, False)
    return reverse("privacy:review")
