"""A real synthetic round: its figures, summed for the county, agree with the children the
same round loaded into the ledger (counted here independently, one by one), and the daily
job recomputes what changes with time."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

from django.core.management import call_command

from tonghu.accounts.roles import Role
from tonghu.children.models import Child
from tonghu.conftest import make_user
from tonghu.rounds.models import Round
from tonghu.stats.models import DailyFigure, Measure
from tonghu.stats.selectors import jurisdiction, round_by_area, round_totals
from tonghu.visits.selectors import county_visit_plan


def _county() -> str:
    return Round.objects.get().county_id


def _residents() -> list[Child]:
    return list(Child.objects.filter(present=True, is_resident=True))


def test_round_figures_agree_with_the_loaded_children(county_round: Path) -> None:
    county = _county()
    staff = make_user("u_stats_county", Role.COUNTY_STAFF, county)
    place = jurisdiction(user=staff)
    totals = round_totals(place)
    children = _residents()
    assert totals["all", "total", ""] == len(children) > 0
    assert totals["migrant", "total", ""] == sum(c.is_migrant for c in children)
    assert totals["left_behind", "total", ""] == sum(c.is_left_behind for c in children)
    assert totals["difficulty", "total", ""] == sum(c.in_difficulty for c in children)
    assert totals["key_care", "total", ""] == sum(c.is_key_care for c in children)
    sexes = Counter(c.sex or "unknown" for c in children)
    assert {cat: n for (g, d, cat), n in totals.items() if (g, d) == ("all", "sex")} == sexes
    stages = Counter(c.stage or "none" for c in children)
    assert {cat: n for (g, d, cat), n in totals.items() if (g, d) == ("all", "stage")} == stages
    services = Counter(code for c in children for code in c.services)
    assert {cat: n for (g, d, cat), n in totals.items() if (g, d) == ("all", "service")} == services
    towns = Counter(c.residence_division_id[:9] + "000" for c in children)
    by_town = {
        a: n for (a, g, d, _), n in round_by_area(place).items() if (g, d) == ("all", "total")
    }
    assert by_town == towns


def test_stats_refresh_recomputes_the_visit_plan(county_round: Path) -> None:
    county = _county()[:6]
    later = dt.date(2026, 1, 15)
    call_command("stats_refresh", today=later.isoformat())
    statuses = Counter(item.status.value for item in county_visit_plan(county=county, today=later))
    stored: Counter[str] = Counter()
    for figure in DailyFigure.objects.filter(measure=Measure.VISIT_STATUS):
        stored[figure.category] += figure.n
    assert stored == statuses
    assert set(DailyFigure.objects.values_list("computed_on", flat=True)) == {later}
