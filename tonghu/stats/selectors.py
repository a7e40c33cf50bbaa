"""Scoped reads of the figures: a jurisdiction the user may look at, and its sums.

Every read adds up figure rows (never children) under one division's code range, so its cost
follows the number of divisions and categories, not of children.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import Substr
from django.http import Http404

from tonghu import clock
from tonghu.accounts.models import User
from tonghu.accounts.roles import Capability, Role
from tonghu.accounts.scope import require, scope_prefix, within
from tonghu.divisions.codes import Level, pad, prefix
from tonghu.divisions.models import Division
from tonghu.policy.profile import Profile
from tonghu.policy.profile import Stats as StatsPolicy
from tonghu.rounds.models import Round, RoundStatus
from tonghu.services.lists import profile_in_force
from tonghu.stats.models import DailyFigure, LiveFigure, Measure, RoundFigure

LEVELS = (Level.PROVINCE, Level.CITY, Level.COUNTY, Level.TOWN, Level.VILLAGE)
Key = tuple[str, str, str]  # group, dimension, category


@dataclass(frozen=True)
class Jurisdiction:
    """What a statistics page shows: a division in the user's scope, the rounds its figures
    come from (each county's latest, or one chosen round), and whether cells are protected."""

    user: User
    division: Division
    rounds: tuple[Round, ...]
    protected: bool
    profile: Profile
    counties: tuple[str, ...] = field(default=())  # the counties (6 digits) under it

    @property
    def code_prefix(self) -> str:
        return prefix(self.division.code, Level(self.division.level))

    @property
    def area_level(self) -> Level | None:
        """The level its figures are broken down by (a village has none)."""
        return Level(self.division.level).child

    @property
    def policy(self) -> StatsPolicy:
        return self.profile.stats

    @property
    def threshold(self) -> int:
        return self.policy.suppress_below

    @property
    def round_ids(self) -> list[int]:
        return [round_.pk for round_ in self.rounds]

    @property
    def as_of(self) -> dt.date | None:
        return max((round_.as_of for round_ in self.rounds), default=None)


def may_see_small_cells(user: User) -> bool:
    """Only the county civil-affairs office sees cells under the threshold."""
    return user.role == Role.COUNTY_STAFF


def jurisdiction(
    *, user: User, code: str = "", round_id: int | None = None, protect: bool = False
) -> Jurisdiction:
    """The division ``code`` (default: the user's own) if it lies in the user's scope, else
    404. ``round_id`` picks one of a county's rounds; ``protect`` asks for the protected
    figures even where the user may see small cells (对外报送)."""
    require(user, Capability.VIEW_STATS)
    code = code or user.division_id
    division = Division.objects.filter(
        within("code", scope_prefix(user)), code=code, level__in=LEVELS
    ).first()
    if division is None:
        raise Http404("未找到该区划，或不在您的管辖范围内。")
    head = prefix(division.code, Level(division.level))
    # The rounds of the counties covering it: of its own county below the county level.
    done = Round.objects.filter(
        within("county_id", head[: Level.COUNTY.prefix_length]), status=RoundStatus.DONE
    )
    latest: dict[str, Round] = {}
    for round_ in done.order_by("county_id", "-as_of"):  # a few rounds per county
        latest.setdefault(round_.county_id[:6], round_)
    counties = sorted(latest)
    if round_id is not None and len(counties) == 1:
        chosen = done.filter(pk=round_id).first()
        if chosen is None:
            raise Http404("未找到该轮次，或不在您的管辖范围内。")
        rounds: tuple[Round, ...] = (chosen,)
    else:
        rounds = tuple(latest[county] for county in counties)
    return Jurisdiction(
        user=user,
        division=division,
        rounds=rounds,
        protected=protect or not may_see_small_cells(user),
        profile=_profile(counties),
        counties=tuple(counties),
    )


def _profile(counties: list[str]) -> Profile:
    """The counties' profile in force; over several, the one protecting small cells most."""
    today = clock.today()
    profiles = [profile_in_force(county_code=county, day=today) for county in counties]
    if not profiles:
        return profile_in_force(county_code="000000", day=today)
    return max(profiles, key=lambda profile: profile.stats.suppress_below)


def rounds_of(place: Jurisdiction) -> list[Round]:
    """The county's rounds to choose from (only where the page shows one county)."""
    if len(place.counties) != 1:
        return []
    return list(
        Round.objects.filter(
            county_id=f"{place.counties[0]}000000", status=RoundStatus.DONE
        ).order_by("-as_of")
    )


# The levels the round figures are summed at; above the county, the counties' rows are read.
FIGURE_LEVELS = (Level.COUNTY, Level.TOWN, Level.VILLAGE)


def _stored_level(level: Level) -> Level:
    return level if level in FIGURE_LEVELS else Level.COUNTY


def _round_rows(place: Jurisdiction, level: Level) -> QuerySet[RoundFigure]:
    """The round figures under the jurisdiction summed at ``level`` (or the county's)."""
    return RoundFigure.objects.filter(
        within("division_code", place.code_prefix),
        round_id__in=place.round_ids,
        level=_stored_level(level),
    )


def round_totals(place: Jurisdiction) -> dict[Key, int]:
    """(group, dimension, category) -> children, over the whole jurisdiction."""
    rows = (
        _round_rows(place, Level(place.division.level))
        .values_list("group", "dimension", "category")
        .annotate(total=Sum("n"))
        .order_by()
    )
    return {(group, dimension, category): total for group, dimension, category, total in rows}


def area_of(code: str, level: Level) -> str:
    """The code of the ``level`` division a figure's division lies in (12 digits)."""
    return pad(code[: level.prefix_length])


def round_by_area(
    place: Jurisdiction, *, dimensions: tuple[str, ...] | None = None
) -> dict[tuple[str, str, str, str], int]:
    """(area code, group, dimension, category) -> children, one area per division at the
    level below (a figure placed only at a higher level gets that level's code)."""
    level = place.area_level
    if level is None:
        return {}
    rows = _round_rows(place, level)
    if dimensions is not None:
        rows = rows.filter(dimension__in=dimensions)
    grouped = (
        rows.annotate(area=Substr("division_code", 1, level.prefix_length))
        .values_list("area", "group", "dimension", "category")
        .annotate(total=Sum("n"))
        .order_by()
    )
    return {(pad(area), g, d, c): total for area, g, d, c, total in grouped}


def areas(place: Jurisdiction) -> dict[str, str]:
    """The divisions one level below, code -> name, in code order."""
    level = place.area_level
    if level is None:
        return {}
    found = Division.objects.filter(within("code", place.code_prefix), level=level).values_list(
        "code", "name"
    )
    return dict(sorted(found))


def province_names() -> dict[str, str]:
    """Two-digit province code -> name, from the division table (hukou places)."""
    rows = Division.objects.filter(level=Level.PROVINCE).values_list("code", "name")
    return {code[:2]: name for code, name in rows}


def trend(place: Jurisdiction) -> dict[dt.date, dict[str, int]]:
    """Each round's group totals (the counties' rounds on the same date added up)."""
    rows = (
        RoundFigure.objects.filter(
            within("division_code", place.code_prefix),
            round__county_id__in=[f"{county}000000" for county in place.counties],
            round__status=RoundStatus.DONE,
            level=_stored_level(Level(place.division.level)),
            dimension="total",
        )
        .values_list("round__as_of", "group")
        .annotate(total=Sum("n"))
        .order_by()
    )
    found: dict[dt.date, dict[str, int]] = defaultdict(dict)
    for as_of, group, total in rows:
        found[as_of][group] = total
    return dict(sorted(found.items()))


def live_figures(
    place: Jurisdiction,
    *,
    measures: tuple[Measure, ...],
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> dict[tuple[str, str, dt.date], int]:
    """(measure, category, month) -> the counter's sum over the jurisdiction."""
    rows = LiveFigure.objects.filter(
        within("division_code", place.code_prefix), measure__in=measures
    )
    if since is not None:
        rows = rows.filter(month__gte=since)
    if until is not None:
        rows = rows.filter(month__lte=until)
    grouped = rows.values_list("measure", "category", "month").annotate(total=Sum("n")).order_by()
    return {(m, c, month): total for m, c, month, total in grouped}


def daily_figures(place: Jurisdiction) -> dict[tuple[str, str], int]:
    """(measure, category) -> today's figure over the jurisdiction."""
    grouped = (
        DailyFigure.objects.filter(within("division_code", place.code_prefix))
        .values_list("measure", "category")
        .annotate(total=Sum("n"))
        .order_by()
    )
    return {(m, c): total for m, c, total in grouped}


def daily_by_area(place: Jurisdiction, *, measure: Measure) -> dict[tuple[str, str], int]:
    """(area code, category) -> today's ``measure`` per division one level below."""
    level = place.area_level
    if level is None:
        return {}
    grouped = (
        DailyFigure.objects.filter(within("division_code", place.code_prefix), measure=measure)
        .annotate(area=Substr("division_code", 1, level.prefix_length))
        .values_list("area", "category")
        .annotate(total=Sum("n"))
        .order_by()
    )
    return {(pad(area), category): total for area, category, total in grouped}


def daily_computed_on(place: Jurisdiction) -> dt.date | None:
    return (
        DailyFigure.objects.filter(within("division_code", place.code_prefix))
        .order_by("computed_on")
        .values_list("computed_on", flat=True)
        .first()
    )


def workers(place: Jurisdiction) -> dict[str, int]:
    """Role -> active child directors and supervisors in the jurisdiction."""
    rows = (
        User.objects.filter(
            within("division_id", place.code_prefix),
            role__in=(Role.CHILD_DIRECTOR, Role.SUPERVISOR),
            is_active=True,
        )
        .values_list("role")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return dict(rows)
