from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, overload

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet

from tonghu.accounts.roles import Capability
from tonghu.accounts.scope import access, scope_prefix, scope_q, scoped
from tonghu.children.models import Child
from tonghu.divisions.codes import code_range
from tonghu.services.loading import overdue_q
from tonghu.services.models import Referral

if TYPE_CHECKING:
    from tonghu.accounts.models import User

INBOX_PAGE_SIZE = 50
# Up to this many children living outside an officer's jurisdiction, the inbox counts its
# referrals as the department's all less theirs (see _count_in_scope).
FEW_OUTSIDE = 10_000


def referrals_for(*, user: User) -> QuerySet[Referral]:
    """A department officer's referrals: its department's, for children in its jurisdiction."""
    mine = Referral.objects.filter(department=user.department).select_related(
        "child", "child__residence_division", "round"
    )
    return scoped(
        mine,
        user=user,
        capability=Capability.VIEW_REFERRALS,
        field="child__residence_division_id",
    )


def access_referral(*, user: User, referral_id: int) -> Referral:
    return access(referrals_for(user=user), pk=referral_id)


def _dates_in_scope(user: User, tab: Q) -> list[tuple[dt.date, int]]:
    """How many of the department's referrals in ``tab`` are for children in the user's
    jurisdiction, per answer date (by date), without joining every child there (a county
    holds a million).

    A referral is in scope by where its child lives now; referrals carry no division of
    their own. So, when few children live outside the jurisdiction (a county's own
    deployment), the counts are those of all the department's referrals in the tab (read
    off the inbox index alone) less those of the children living outside (found through the
    residence index). Otherwise they are counted joining the children, as the rows are."""
    if not user.is_active or not user.can(Capability.VIEW_REFERRALS):
        return []
    first, last = code_range(scope_prefix(user))
    mine = Referral.objects.filter(tab, department=user.department)
    # The children outside are those coded before the jurisdiction's range or after it:
    # each side is asked separately, so that an index scan stops after FEW_OUTSIDE.
    before = Child.objects.filter(residence_division_id__lt=first)
    after = Child.objects.filter(residence_division_id__gt=last)

    def per_date(referrals: QuerySet[Referral]) -> dict[dt.date, int]:
        rows = referrals.values_list("due_on").annotate(n=Count("*")).order_by("due_on")
        return dict(rows)

    if before[FEW_OUTSIDE:].exists() or after[FEW_OUTSIDE:].exists():
        counts = per_date(mine.filter(scope_q(user, "child__residence_division_id")))
    else:
        counts = per_date(mine)
        outside = (before | after).values("pk")  # few: this semi-join starts from them
        for day, n in per_date(mine.filter(child__in=outside)).items():
            counts[day] -= n
    return [(day, n) for day, n in counts.items() if n > 0]


class _InboxRows(Sequence[Referral]):
    """A tab of the inbox in its order (answer date, then id), for the paginator.

    The inbox index runs (department, status, due_on) without the id, and a round opens
    all its referrals with one answer date: ordering a tab by (due_on, id) would fetch and
    sort every referral of the date for one page. So the tab is counted per answer date
    first (``_dates_in_scope``, cheap), and a page reads only the dates it spans, each in id
    order (the primary key's), from where the page starts in it."""

    def __init__(self, user: User, tab: Q) -> None:
        self.user = user
        self.tab = tab
        self.rows = referrals_for(user=user).filter(tab)
        self.dates: list[tuple[dt.date, int]] | None = None

    def _dates(self) -> list[tuple[dt.date, int]]:
        if self.dates is None:
            self.dates = _dates_in_scope(self.user, self.tab)
        return self.dates

    def __len__(self) -> int:  # the paginator's count
        return sum(n for _, n in self._dates())

    @overload
    def __getitem__(self, index: int) -> Referral: ...
    @overload
    def __getitem__(self, index: slice) -> list[Referral]: ...
    def __getitem__(self, index: int | slice) -> Referral | list[Referral]:
        if not isinstance(index, slice):
            return self[index : index + 1][0]
        start = index.start or 0
        stop = len(self) if index.stop is None else index.stop
        page: list[Referral] = []
        before = 0  # referrals of the earlier dates
        for day, n in self._dates():
            if before >= stop:
                break
            if before + n > start:
                window = slice(max(start - before, 0), min(stop - before, n))
                page += self.rows.filter(due_on=day).order_by("id")[window]
            before += n
        return page


def inbox_page(
    *, user: User, statuses: Sequence[str], page_number: int, overdue_on: dt.date | None = None
) -> Page[Referral]:
    """One page of the officer's referrals in ``statuses`` (or, with ``overdue_on``, those
    still pending after their answer date), by answer date, then id."""
    tab = overdue_q(overdue_on) if overdue_on is not None else Q(status__in=statuses)
    return Paginator(_InboxRows(user, tab), INBOX_PAGE_SIZE).get_page(page_number)
