"""Scoped reads: the children a user must visit and when each is next due."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Count, Max, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from tonghu.accounts.roles import Capability
from tonghu.accounts.scope import scoped, within
from tonghu.children.models import Child, ChildRecord
from tonghu.guardianship.selectors import latest_grades
from tonghu.services.lists import profiles_in_force
from tonghu.visits.models import Visit
from tonghu.visits.plan import (
    STATUS_LABELS,
    Due,
    History,
    Status,
    is_raised,
    next_due,
    quarter_start,
    status_of,
)

if TYPE_CHECKING:
    from tonghu.accounts.models import User

STATUS_ORDER = {Status.OVERDUE: 0, Status.TODAY: 1, Status.SOON: 2, Status.LATER: 3}


@dataclass(frozen=True)
class WorkItem:
    child: Child
    due: Due
    status: Status
    raised: bool
    grade: str | None

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


TO_VISIT = Q(present=True) & (Q(is_left_behind=True) | Q(in_difficulty=True) | Q(is_key_care=True))


def plan_children(*, user: User) -> QuerySet[Child]:
    """Children present in the user's scope that policy.md §8 asks to be visited."""
    children = scoped(
        Child.objects.all(),
        user=user,
        capability=Capability.EDIT_CHILDREN,
        field="residence_division_id",
    )
    return children.filter(TO_VISIT)


def _feed_visits(round_field: str) -> Subquery:
    """The latest visit date a department's visit_survey record states, of the child's
    last round (grid workers' visits count like ours)."""
    records = ChildRecord.objects.filter(
        child=OuterRef("pk"), source="visit_survey", round=OuterRef(round_field)
    )
    return Subquery(records.order_by("-record_date").values("record_date")[:1])


def worklist(*, user: User, today: dt.date | None = None) -> list[WorkItem]:
    """Each child's next due contact or home visit, by village, overdue first."""
    today = today or timezone.localdate()
    items = visit_plan(plan_children(user=user), today=today)
    items.sort(key=lambda i: (i.child.residence_division_id, STATUS_ORDER[i.status], i.due.on))
    return items


def county_visit_plan(*, county: str, today: dt.date) -> list[WorkItem]:
    """``visit_plan`` of every child a county's directors must visit (6-digit county code)."""
    children = Child.objects.filter(within("residence_division_id", county)).filter(TO_VISIT)
    return visit_plan(children, today=today)


def visit_plan(children: QuerySet[Child], *, today: dt.date) -> list[WorkItem]:
    """Each child's next due contact or home visit and its status at ``today``."""
    start = quarter_start(today)
    latest_visit = Visit.objects.filter(child=OuterRef("pk")).order_by("-visited_on", "-pk")
    rows = list(
        children.select_related("residence_division", "first_round").annotate(
            last_home=Max("visits__visited_on", filter=Q(visits__kind=Visit.Kind.HOME)),
            last_contact=Max("visits__visited_on"),
            home_this_quarter=Count(
                "visits", filter=Q(visits__kind=Visit.Kind.HOME, visits__visited_on__gte=start)
            ),
            feed_visit=_feed_visits("last_round"),
            father_now=Subquery(latest_visit.values("father_status")[:1]),
            mother_now=Subquery(latest_visit.values("mother_status")[:1]),
        )
    )
    grades = latest_grades(child_ids=[child.pk for child in rows])
    profile_of_county = profiles_in_force(day=today)
    items = []
    for child in rows:
        rules = profile_of_county(child.residence_division_id[:6]).visits
        grade = grades.get(child.pk)
        parents = (child.father_now, child.mother_now)
        raised = is_raised(
            rules, grade=grade, key_care=child.key_care, parent_states=[s for s in parents if s]
        )
        due = next_due(
            rules,
            history=_history(child, start),
            key_care=child.is_key_care,
            raised=raised,
            identified_on=_identified_on(child),
            today=today,
        )
        items.append(WorkItem(child, due, status_of(due, today), raised, grade))
    return items


def _history(child: Child, start: dt.date) -> History:
    feed = child.feed_visit  # type: ignore[attr-defined]
    ours_home = child.last_home  # type: ignore[attr-defined]
    ours_any = child.last_contact  # type: ignore[attr-defined]
    home = max((d for d in (ours_home, feed) if d is not None), default=None)
    contact = max((d for d in (ours_any, feed) if d is not None), default=None)
    in_quarter = child.home_this_quarter + (1 if feed and feed >= start else 0)  # type: ignore[attr-defined]
    return History(last_home=home, last_contact=contact, home_this_quarter=in_quarter)


def _identified_on(child: Child) -> dt.date | None:
    completed = child.first_round.completed_at if child.first_round else None
    return timezone.localdate(completed) if completed else None


def visits_of(*, child: Child) -> QuerySet[Visit]:
    return child.visits.select_related("visited_by").order_by("-visited_on", "-pk")


def visits_for_round(*, county: str, as_of: dt.date) -> QuerySet[Visit]:
    """The visits a round of ``county`` reads as feed rows: those made by its base date."""
    return (
        Visit.objects.filter(within("child__residence_division_id", county), visited_on__lte=as_of)
        .select_related("child", "visited_by")
        .order_by("pk")
    )


def visits_fingerprint() -> str:
    """Changes when a visit is recorded, so re-running a round then recomputes it."""
    found = Visit.objects.aggregate(count=Count("pk"), last=Max("pk"))
    return f"visits:{found['count']}:{found['last']}"
