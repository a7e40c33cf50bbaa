"""Scoped reads of the roster: who may open which worker, and the roster of a jurisdiction.

The roster's share is the ledger's (``VIEW_CHILDREN``: directors, supervisors, county and
city staff); within it, the roster's own rules say who may open or change which worker's
page. Workers out of reach answer 404 like missing ones.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Max, Q, QuerySet, Sum

from tonghu.accounts.models import User
from tonghu.accounts.roles import Capability, Role
from tonghu.accounts.scope import access, require, scope_prefix, scoped, within
from tonghu.children.models import Child
from tonghu.divisions.codes import Level
from tonghu.divisions.models import Division
from tonghu.privacy.sensitive import mask_phone
from tonghu.roster.models import Training, Worker
from tonghu.services.lists import profiles_in_force

WORKER_ROLES = (Role.CHILD_DIRECTOR, Role.SUPERVISOR)
TOWN_DIGITS = Level.TOWN.prefix_length
COUNTY_DIGITS = Level.COUNTY.prefix_length

# The roster page's filters: key -> label.
ONLY_FILTERS = {"understaffed": "只看需增配", "vacant": "只看无儿童主任"}
FLAG_UNDERSTAFFED = "需增配儿童主任"
FLAG_VACANT = "无儿童主任"


def display_name(user: User) -> str:
    """A person's name in Chinese order (family name first), else the username."""
    return f"{user.last_name}{user.first_name}".strip() or user.username


def phones_visible(user: User) -> bool:
    """County staff keep the roster and see full phone numbers; everyone else sees them masked."""
    return user.is_active and user.role == Role.COUNTY_STAFF


def may_edit_profile(user: User) -> bool:
    """Only county staff change a worker's phone and appointment (within their county)."""
    return user.is_active and user.role == Role.COUNTY_STAFF


def may_record_training(user: User, worker: User) -> bool:
    """County staff record trainings for any worker in the county; a supervisor for the
    child directors of the town (both already within the user's jurisdiction)."""
    if not user.is_active:
        return False
    if user.role == Role.COUNTY_STAFF:
        return True
    return user.role == Role.SUPERVISOR and worker.role == Role.CHILD_DIRECTOR


def workers_for(*, user: User) -> QuerySet[User]:
    """The directors and supervisors whose page the user may open: those in the user's
    jurisdiction; a child director opens only their own."""
    workers = User.objects.filter(role__in=WORKER_ROLES).select_related("division")
    if user.role == Role.CHILD_DIRECTOR:
        workers = workers.filter(pk=user.pk)
    return scoped(workers, user=user, capability=Capability.VIEW_CHILDREN, field="division_id")


def access_worker(*, user: User, worker_id: int) -> User:
    return access(workers_for(user=user), pk=worker_id)


def access_worker_to_edit(*, user: User, worker_id: int) -> User:
    """A worker whose phone and appointment the user may change (else 404)."""
    workers = workers_for(user=user) if may_edit_profile(user) else User.objects.none()
    return access(workers, pk=worker_id)


def access_worker_to_train(*, user: User, worker_id: int) -> User:
    """A worker the user may record a training for (else 404)."""
    worker = access(workers_for(user=user), pk=worker_id)
    if not may_record_training(user, worker):
        return access(User.objects.none(), pk=worker_id)
    return worker


def profile_of(worker: User) -> Worker | None:
    return Worker.objects.filter(user=worker).first()


def trainings_of(*, worker: User) -> QuerySet[Training]:
    return Training.objects.filter(user=worker).select_related("recorded_by")


def training_hours(*, worker: User) -> Decimal:
    total = Training.objects.filter(user=worker).aggregate(total=Sum("hours"))["total"]
    return total if total is not None else Decimal(0)


@dataclass
class WorkerRow:
    user_id: int
    name: str
    role: str
    division_code: str
    phone: str  # full or masked, as the reader may see it
    phone_full: bool
    appointed_on: dt.date | None
    training_hours: Decimal
    last_training: dt.date | None
    linked: bool  # the reader may open this worker's page


@dataclass
class VillageRow:
    code: str
    name: str
    max_per_director: int
    directors: list[WorkerRow] = field(default_factory=list)
    children: int = 0  # children present
    left_behind_or_difficulty: int = 0  # each child once
    key_care: int = 0

    @property
    def vacant(self) -> bool:
        return not self.directors

    @property
    def understaffed(self) -> bool:
        """More left-behind and difficulty children than the directors may serve."""
        return bool(self.directors) and (
            self.left_behind_or_difficulty > self.max_per_director * len(self.directors)
        )

    @property
    def flags(self) -> list[str]:
        return [FLAG_VACANT] if self.vacant else [FLAG_UNDERSTAFFED] if self.understaffed else []

    @property
    def workload(self) -> str:
        """Left-behind and difficulty children per director, for the reader."""
        if self.vacant:
            return "—"
        return f"{self.left_behind_or_difficulty / len(self.directors):.1f}"


@dataclass
class TownRow:
    code: str
    name: str
    county_name: str
    supervisors: list[WorkerRow] = field(default_factory=list)
    villages: list[VillageRow] = field(default_factory=list)


@dataclass
class Roster:
    towns: list[TownRow]
    several_counties: bool

    @property
    def villages(self) -> list[VillageRow]:
        return [village for town in self.towns for village in town.villages]

    @property
    def workers(self) -> list[WorkerRow]:
        return [
            *(s for town in self.towns for s in town.supervisors),
            *(d for village in self.villages for d in village.directors),
        ]

    @property
    def counts(self) -> dict[str, int]:
        villages = self.villages
        return {
            "villages": len(villages),
            "directors": sum(len(v.directors) for v in villages),
            "supervisors": sum(len(t.supervisors) for t in self.towns),
            "understaffed": sum(v.understaffed for v in villages),
            "vacant": sum(v.vacant for v in villages),
        }


def roster_for(*, user: User, today: dt.date, only: str = "") -> Roster:
    """The towns and villages of the user's jurisdiction with their supervisors, directors,
    workload and flags; ``only`` keeps the villages flagged "understaffed" or "vacant".

    A bounded number of queries whatever the number of villages: divisions, workers, their
    trainings, the children counted per village, and the profile of each county.
    """
    require(user, Capability.VIEW_CHILDREN)
    code_prefix = scope_prefix(user)
    county_names = dict(
        Division.objects.filter(
            within("code", code_prefix[:COUNTY_DIGITS]), level=Level.COUNTY
        ).values_list("code", "name")
    )
    towns: dict[str, TownRow] = {
        code: TownRow(code, name, county_names.get(f"{code[:COUNTY_DIGITS]}000000", ""))
        for code, name in Division.objects.filter(
            within("code", code_prefix[:TOWN_DIGITS]), level=Level.TOWN
        )
        .order_by("code")
        .values_list("code", "name")
    }
    profile_of_county = profiles_in_force(day=today)

    def limit(code: str) -> int:
        return profile_of_county(code[:COUNTY_DIGITS]).roster.children_per_director_max

    villages: dict[str, VillageRow] = {
        code: VillageRow(code, name, limit(code))
        for code, name in Division.objects.filter(within("code", code_prefix), level=Level.VILLAGE)
        .order_by("code")
        .values_list("code", "name")
    }
    _count_children(villages, code_prefix)
    workers = scoped(
        User.objects.filter(role__in=WORKER_ROLES, is_active=True),
        user=user,
        capability=Capability.VIEW_CHILDREN,
        field="division_id",
    ).order_by("division_id", "last_name", "first_name", "username")
    for row in _worker_rows(user, workers):
        if row.role == Role.SUPERVISOR and row.division_code in towns:
            towns[row.division_code].supervisors.append(row)
        elif row.role == Role.CHILD_DIRECTOR and row.division_code in villages:
            villages[row.division_code].directors.append(row)
    for village in villages.values():
        if only == "understaffed" and not village.understaffed:
            continue
        if only == "vacant" and not village.vacant:
            continue
        town = towns.get(f"{village.code[:TOWN_DIGITS]}000")
        if town is not None:
            town.villages.append(village)
    shown = [town for town in towns.values() if town.villages or not only]
    return Roster(towns=shown, several_counties=len(county_names) > 1)


def _count_children(villages: dict[str, VillageRow], code_prefix: str) -> None:
    """Children present per village, in one grouped query."""
    counted = (
        Child.objects.filter(within("residence_division_id", code_prefix), present=True)
        .values("residence_division_id")
        .annotate(
            total=Count("pk"),
            needy=Count("pk", filter=Q(is_left_behind=True) | Q(in_difficulty=True)),
            key=Count("pk", filter=Q(is_key_care=True)),
        )
        .order_by()
    )
    for item in counted:
        village = villages.get(item["residence_division_id"])
        if village is not None:
            village.children = item["total"]
            village.left_behind_or_difficulty = item["needy"]
            village.key_care = item["key"]


def _worker_rows(reader: User, workers: QuerySet[User]) -> list[WorkerRow]:
    """Rows for ``workers``, with their profiles and training totals in two more queries
    (each filtered by ``workers`` as a subquery, however many there are)."""
    chosen = workers.values("pk")
    profiles = {profile.user_id: profile for profile in Worker.objects.filter(user__in=chosen)}
    trained = {
        item["user_id"]: (item["hours"], item["last"])
        for item in Training.objects.filter(user__in=chosen)
        .values("user_id")
        .annotate(hours=Sum("hours"), last=Max("on"))
        .order_by()
    }
    full = phones_visible(reader)
    rows = []
    for worker in workers:
        profile = profiles.get(worker.pk)
        phone = profile.phone if profile else ""
        hours, last = trained.get(worker.pk, (Decimal(0), None))
        rows.append(
            WorkerRow(
                user_id=worker.pk,
                name=display_name(worker),
                role=worker.role,
                division_code=worker.division_id,
                phone=phone if full else mask_phone(phone),
                phone_full=full and bool(phone),
                appointed_on=profile.appointed_on if profile else None,
                training_hours=hours,
                last_training=last,
                linked=reader.role != Role.CHILD_DIRECTOR or worker.pk == reader.pk,
            )
        )
    return rows
