"""Scoped reads: latest grades (for the visit plans), lapsed parent contacts, county tasks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import batched
from typing import TYPE_CHECKING

from django.db.models import Max, OuterRef, QuerySet, Subquery
from django.utils import timezone

from tonghu.accounts.roles import Capability
from tonghu.accounts.scope import scoped
from tonghu.children.models import Child
from tonghu.guardianship.models import Assessment, CareAgreement, InterventionTask
from tonghu.services.lists import profiles_in_force

if TYPE_CHECKING:
    from tonghu.accounts.models import User

# The latest assessment first: by its date, then by when it was recorded.
LATEST_FIRST = ("-assessed_on", "-created_at", "-id")
# Child pks asked for in one statement (well under SQLite's bound-parameter limit).
GRADES_BATCH = 5000


def latest_assessments(*, child: Child) -> QuerySet[Assessment]:
    """A child's assessments, the latest (by date, then by when recorded) first."""
    return child.assessments.select_related("assessed_by").order_by(*LATEST_FIRST)


def latest_grades(*, child_ids: Iterable[int]) -> dict[int, str]:
    """Child pk -> the grade of the child's latest assessment (children never assessed are
    absent). One query for up to GRADES_BATCH children."""
    latest = (
        Assessment.objects.filter(child_id=OuterRef("child_id"))
        .order_by(*LATEST_FIRST)
        .values("pk")[:1]
    )
    grades: dict[int, str] = {}
    for batch in batched(dict.fromkeys(child_ids), GRADES_BATCH):
        rows = Assessment.objects.filter(child_id__in=batch, pk=Subquery(latest)).values_list(
            "child_id", "grade"
        )
        grades.update(rows)
    return grades


@dataclass(frozen=True)
class LapsedContact:
    child: Child
    last_contact: dt.date | None  # None: no contact recorded yet
    days_since: int  # since the last contact, or since the child was first identified
    limit_days: int  # the profile's parent_contact_every_days


def contact_reference(
    *, last_contact: dt.date | None, first_found: dt.datetime | None, today: dt.date
) -> dt.date:
    """The day the contact clock runs from: the last contact; without one, the day the child
    was first identified (its first round's completion); without that, today."""
    if last_contact is not None:
        return last_contact
    if first_found is not None:
        return timezone.localdate(first_found)
    return today


def is_lapsed(*, days_since: int, limit_days: int) -> bool:
    """Lapsed once more than ``limit_days`` days have passed: a contact exactly
    ``parent_contact_every_days`` days ago is still in time, one day more is lapsed."""
    return days_since > limit_days


def lapsed_contacts(*, children: QuerySet[Child], today: dt.date) -> list[LapsedContact]:
    """The left-behind children still in the ledger among ``children`` whose parents have not
    been in contact for longer than the profile allows. One query for the children, plus one
    per county with its own service list (the profile in force there)."""
    rows = (
        children.filter(is_left_behind=True, present=True)
        .annotate(
            last_contact=Max("parent_contacts__contacted_on"),
            first_found=Max("first_round__completed_at"),
        )
        .order_by("residence_division_id", "child_id")
    )
    profile_of_county = profiles_in_force(day=today)
    lapsed: list[LapsedContact] = []
    for child in rows:
        limit = profile_of_county(child.residence_division_id[:6]).visits.parent_contact_every_days
        last_contact: dt.date | None = child.last_contact
        first_found: dt.datetime | None = child.first_found
        reference = contact_reference(
            last_contact=last_contact, first_found=first_found, today=today
        )
        days_since = (today - reference).days
        if is_lapsed(days_since=days_since, limit_days=limit):
            lapsed.append(
                LapsedContact(
                    child=child,
                    last_contact=last_contact,
                    days_since=days_since,
                    limit_days=limit,
                )
            )
    return lapsed


def handles_interventions(user: User) -> bool:
    """区县民政: county civil-affairs staff handle 监护缺失 interventions."""
    return user.can(Capability.HANDLE_INTERVENTIONS)


def intervention_tasks_for(*, user: User) -> QuerySet[InterventionTask]:
    """The intervention tasks of children in the user's county, for county staff only."""
    tasks = InterventionTask.objects.select_related("child", "assessment", "handled_by")
    if not handles_interventions(user):
        return tasks.none()
    return scoped(
        tasks, user=user, capability=Capability.EDIT_CHILDREN, field="child__residence_division_id"
    )


def agreement_of(*, child: Child, agreement_id: int) -> CareAgreement | None:
    return child.care_agreements.filter(pk=agreement_id).first()
