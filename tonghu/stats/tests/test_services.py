"""The figures kept by the stats services from real rows: referrals counted per division by the
daily job, and deliveries recounted after a round."""

from __future__ import annotations

import datetime as dt

import pytest

from tonghu.conftest import World
from tonghu.services.models import Referral
from tonghu.stats.models import DailyFigure, LiveFigure, Measure
from tonghu.stats.services import daily_refresh, delivered_rebase
from tonghu.stats.tests.figures import COUNTY, EAST, WEST

TODAY = dt.date(2026, 11, 23)


def _referral(world: World, village: str, *, due_on: dt.date, **fields: object) -> Referral:
    return Referral.objects.create(
        child=world.children_by_home[village], round=world.rounds[COUNTY], service_code="S01",
        department="education", due_on=due_on, **fields,
    )  # fmt: skip


@pytest.mark.django_db
def test_the_daily_job_counts_open_and_overdue_referrals_per_village(world: World) -> None:
    _referral(world, EAST, due_on=TODAY - dt.timedelta(days=1))  # overdue
    _referral(world, EAST, due_on=TODAY)  # due today: not yet overdue
    _referral(world, WEST, due_on=TODAY + dt.timedelta(days=3))
    _referral(world, WEST, due_on=TODAY - dt.timedelta(days=9), status=Referral.Status.DELIVERED)
    daily_refresh(county=COUNTY[:6], today=TODAY)
    found = {
        (f.division_code, f.measure): f.n
        for f in DailyFigure.objects.filter(measure__startswith="referral")
    }
    assert found == {
        (EAST, Measure.REFERRAL_OPEN): 2,
        (EAST, Measure.REFERRAL_OVERDUE): 1,
        (WEST, Measure.REFERRAL_OPEN): 1,
    }


@pytest.mark.django_db
def test_deliveries_are_recounted_by_month_for_children_still_present(world: World) -> None:
    delivered = Referral.Status.DELIVERED
    for day in (dt.date(2026, 3, 2), dt.date(2026, 3, 30), dt.date(2026, 4, 1)):
        _referral(world, EAST, due_on=day, status=delivered, delivered_on=day)
    gone = world.children_by_home[WEST]
    gone.present = False
    gone.save()
    _referral(world, WEST, due_on=TODAY, status=delivered, delivered_on=dt.date(2026, 3, 5))
    LiveFigure.objects.create(  # a stale counter the recount replaces
        division_code=EAST, measure=Measure.SERVICE_DELIVERED, category="S01",
        month=dt.date(2026, 3, 1), n=40,
    )  # fmt: skip
    delivered_rebase(county=COUNTY[:6])
    found = dict(
        LiveFigure.objects.filter(measure=Measure.SERVICE_DELIVERED).values_list("month", "n")
    )
    assert found == {dt.date(2026, 3, 1): 2, dt.date(2026, 4, 1): 1}
