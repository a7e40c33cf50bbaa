"""Keeping the figures current: a round's figures loaded once, live counters bumped by the
actions themselves, and the daily figures recomputed per county."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.db.models.functions import TruncMonth

from tonghu.accounts.scope import within
from tonghu.children.models import Child
from tonghu.guardianship.selectors import latest_grades
from tonghu.rounds.bulk import insert_rows
from tonghu.rounds.models import Round, RoundStatus
from tonghu.services.models import Referral
from tonghu.stats.models import DailyFigure, LiveFigure, Measure, RoundFigure
from tonghu.visits.selectors import county_visit_plan

BATCH_ROWS = 10_000


def month_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


def figure_add(
    *, division_code: str, measure: Measure, on: dt.date, by: int = 1, category: str = ""
) -> None:
    """Add ``by`` to a live counter, in the caller's transaction (a row per division, measure,
    category and month; created on first use)."""
    key = {
        "division_code": division_code,
        "measure": measure,
        "category": category,
        "month": month_of(on),
    }
    if LiveFigure.objects.filter(**key).update(n=F("n") + by):
        return
    try:
        with transaction.atomic():
            LiveFigure.objects.create(**key, n=by)
    except IntegrityError:  # created meanwhile by a concurrent action: add to it instead
        LiveFigure.objects.filter(**key).update(n=F("n") + by)


def round_figures_load(*, round_: Round, path: Path) -> int:
    """Replace the round's figures with those its batch step wrote (figures.parquet).

    Rows, not model instances (tonghu.rounds.bulk: COPY on PostgreSQL): building an instance
    per row would cost ten times the database's own work for the hundred thousand rows of a
    large county.
    """
    RoundFigure.objects.filter(round=round_).delete()
    if not path.exists():  # a result folder from before the step existed: nothing to load
        return 0
    loaded = 0
    fields = ("level", "division_code", "group", "dimension", "category", "n")
    columns = ["level", "division_code", "grp", "dimension", "category", "n"]
    # One transaction (a savepoint inside a round's load): outside one, SQLite would commit
    # every row on its own.
    with transaction.atomic():
        for batch in pq.ParquetFile(path).iter_batches(batch_size=BATCH_ROWS, columns=columns):
            values = batch.to_pydict()
            rows = zip(*(values[column] for column in columns), strict=True)
            loaded += insert_rows(RoundFigure, fields, rows, constants={"round_id": round_.pk})
    return loaded


def delivered_rebase(*, county: str) -> None:
    """Recount the county's services delivered to children still present (after a round
    changed who is present); deliveries from now on are added as they are recorded."""
    LiveFigure.objects.filter(
        within("division_code", county), measure=Measure.SERVICE_DELIVERED
    ).delete()
    delivered = (
        Referral.objects.filter(
            within("child__residence_division_id", county),
            child__present=True,
            status=Referral.Status.DELIVERED,
        )
        .annotate(month=TruncMonth("delivered_on"))
        .values_list("child__residence_division_id", "service_code", "month")
        .annotate(n=Count("pk"))
        .order_by()
    )
    LiveFigure.objects.bulk_create(
        LiveFigure(
            division_code=division,
            measure=Measure.SERVICE_DELIVERED,
            category=service,
            month=month,
            n=n,
        )
        for division, service, month, n in delivered
    )


@transaction.atomic
def daily_refresh(*, county: str, today: dt.date) -> int:
    """Recompute a county's daily figures (6-digit code): visit plan status, open and overdue
    referrals, latest assessment grades. Returns the rows written."""
    counts: Counter[tuple[str, Measure, str]] = Counter()
    plan = county_visit_plan(county=county, today=today)
    for item in plan:
        counts[item.child.residence_division_id, Measure.VISIT_STATUS, item.status.value] += 1
    open_referrals = (
        Referral.objects.filter(
            within("child__residence_division_id", county),
            child__present=True,
            status__in=Referral.OPEN_STATUSES,
        )
        .values_list("child__residence_division_id")
        .annotate(open=Count("pk"), overdue=Count("pk", filter=Q(due_on__lt=today)))
        .order_by()
    )
    for division, opened, overdue in open_referrals:
        counts[division, Measure.REFERRAL_OPEN, ""] = opened
        if overdue:
            counts[division, Measure.REFERRAL_OVERDUE, ""] = overdue
    assessed = Child.objects.filter(
        within("residence_division_id", county), present=True, assessments__isnull=False
    ).distinct()
    divisions = dict(assessed.values_list("pk", "residence_division_id"))
    for child_pk, grade in latest_grades(child_ids=divisions).items():
        counts[divisions[child_pk], Measure.ASSESSMENT_GRADE, grade] += 1
    DailyFigure.objects.filter(county_code=county).delete()
    DailyFigure.objects.bulk_create(
        DailyFigure(
            county_code=county,
            division_code=division,
            measure=measure,
            category=category,
            n=n,
            computed_on=today,
        )
        for (division, measure, category), n in counts.items()
    )
    return len(counts)


def counties_with_rounds() -> list[str]:
    """The counties (6 digits) that have completed a round: those the daily job refreshes."""
    codes = Round.objects.filter(status=RoundStatus.DONE).values_list("county_id", flat=True)
    return sorted({code[:6] for code in codes})
