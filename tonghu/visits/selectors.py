"""Scoped reads: the children a user must visit and when each is next due."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, overload

from django.core.exceptions import EmptyResultSet
from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import (
    Case,
    Count,
    DateField,
    ExpressionWrapper,
    F,
    FilteredRelation,
    Func,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.expressions import Expression
from django.db.models.functions import ExtractIsoWeekDay, Greatest, Least, TruncDate
from django.db.models.lookups import GreaterThanOrEqual, IsNull
from django.utils import timezone

from tonghu.accounts.roles import Capability
from tonghu.accounts.scope import scope_prefix, scoped, within
from tonghu.children.models import Child, ChildRecord
from tonghu.guardianship.models import Assessment
from tonghu.guardianship.selectors import LATEST_FIRST, latest_grades
from tonghu.services.lists import profile_in_force, profiles_in_force
from tonghu.visits.models import Visit
from tonghu.visits.plan import (
    QUARTER_DAYS,
    SOON_DAYS,
    STATUS_LABELS,
    Due,
    History,
    Status,
    add_working_days,
    is_raised,
    next_due,
    next_quarter_start,
    quarter_start,
    status_of,
)

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper
    from django.db.models.sql.compiler import SQLCompiler

    from tonghu.accounts.models import User
    from tonghu.policy.profile import Visits

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
    latest = F("record_date").desc(nulls_last=True)  # as Max(): a record without a date never wins
    return Subquery(records.order_by(latest).values("record_date")[:1])


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


# --- the worklist page: one page at a time, ordered and counted in SQL -----------------------

PAGE_SIZE = 50
# The children of each status (STATUS_ORDER's) of a plan: by their due day's ranges.
COUNTING = (
    'SELECT COUNT(CASE WHEN "due" < %s THEN 1 END), COUNT(CASE WHEN "due" = %s THEN 1 END),'
    ' COUNT(CASE WHEN "due" > %s AND "due" <= %s THEN 1 END),'
    ' COUNT(CASE WHEN "due" > %s THEN 1 END)'
)


class _DateFunc(Func):
    """A date function written out per database (PostgreSQL and SQLite, those tonghu runs on)."""

    output_field = DateField()

    def _args(self, compiler: SQLCompiler) -> list[tuple[str, tuple[Any, ...]]]:
        return [
            (sql, tuple(params))
            for sql, params in (compiler.compile(e) for e in self.get_source_expressions())
        ]


class _LaterOf(_DateFunc):
    """The later of two dates, either of which may be missing (NULL only if both are):
    ``max`` of the present ones, as ``_history`` takes it. PostgreSQL's GREATEST skips NULLs;
    SQLite's two-argument MAX does not, so it is completed with COALESCE there."""

    function = "GREATEST"

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> tuple[str, tuple[Any, ...]]:
        (a, a_params), (b, b_params) = self._args(compiler)
        both = (*a_params, *b_params)
        return f"COALESCE(MAX({a}, {b}), {a}, {b})", (*both, *a_params, *b_params)


class _DaysAfter(_DateFunc):
    """A date ``days`` (an integer expression) days later."""

    def as_sql(
        self,
        compiler: SQLCompiler,
        connection: BaseDatabaseWrapper,
        function: str | None = None,
        template: str | None = None,
        arg_joiner: str | None = None,
        **extra_context: Any,
    ) -> tuple[str, tuple[Any, ...]]:
        (day, day_params), (n, n_params) = self._args(compiler)
        return f"(CAST({day} AS date) + CAST({n} AS integer))", (*day_params, *n_params)

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> tuple[str, tuple[Any, ...]]:
        (day, day_params), (n, n_params) = self._args(compiler)
        return f"date({day}, CAST({n} AS TEXT) || ' days')", (*day_params, *n_params)


class _MonthsAfter(_DateFunc):
    """``plan.months_after`` in SQL: the same day ``months`` (an integer expression) calendar
    months later, or that month's last day."""

    def as_sql(
        self,
        compiler: SQLCompiler,
        connection: BaseDatabaseWrapper,
        function: str | None = None,
        template: str | None = None,
        arg_joiner: str | None = None,
        **extra_context: Any,
    ) -> tuple[str, tuple[Any, ...]]:
        # PostgreSQL's month arithmetic clamps to the month's last day (31 Jan + 1 month).
        (day, day_params), (n, n_params) = self._args(compiler)
        sql = f"CAST(CAST({day} AS date) + make_interval(months => CAST({n} AS integer)) AS date)"
        return sql, (*day_params, *n_params)

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra_context: Any
    ) -> tuple[str, tuple[Any, ...]]:
        # SQLite's '+N months' overflows into the month after (31 Jan + 1 month = 3 Mar): the
        # same day from the month's first, capped by the target month's last day.
        (day, day_params), (n, n_params) = self._args(compiler)
        same_day = (
            f"date({day}, 'start of month', CAST({n} AS TEXT) || ' months', "
            f"CAST(CAST(substr({day}, 9, 2) AS INTEGER) - 1 AS TEXT) || ' days')"
        )
        last_day = f"date({day}, 'start of month', CAST(({n}) + 1 AS TEXT) || ' months', '-1 day')"
        params = (*day_params, *n_params, *day_params, *day_params, *n_params)
        return f"MIN({same_day}, {last_day})", params


class _OfTheChild(ExpressionWrapper[Expression]):
    """An expression over one child's own columns, aggregates of its joined rows and
    subqueries on its pk: grouping by the child's pk suffices, so it adds nothing to the
    GROUP BY (Django would add its non-aggregate parts, subqueries included, as keys)."""

    def get_group_by_cols(self) -> list[Any]:
        return []


def _int(value: int) -> Value:
    return Value(value, output_field=IntegerField())


def _date(value: dt.date) -> Value:
    return Value(value, output_field=DateField())


def _raised(rules: Visits) -> Q | None:
    """``plan.is_raised`` over the annotations of ``_planned`` (None: nothing can raise it)."""
    raised = rules.raised
    conditions = []
    if raised.grades:
        conditions.append(Q(grade_now__in=raised.grades))
    # The key-care situations as the list filter tests them (the JSON text holds each code).
    conditions += [Q(key_care__icontains=f'"{code}"') for code in raised.key_care]
    if raised.parent_states:
        states = raised.parent_states
        conditions += [Q(father_now__in=states), Q(mother_now__in=states)]
    if not conditions:
        return None
    either = conditions[0]
    for condition in conditions[1:]:
        either |= condition
    return either


def _due_on(rules: Visits, *, today: dt.date) -> Expression:
    """``plan.next_due(...).on`` in SQL over the annotations of ``_planned``: the same rules
    and history, so the page can be ordered and counted by it without building every child.
    (The page's own items are then made by ``visit_plan``; a test holds the two equal.)"""
    home = _LaterOf(F("last_home"), F("feed_visit"))
    contact = _LaterOf(F("last_contact"), F("feed_visit"))
    # identified_on + first_visit_working_days working days: the days to add depend only on
    # the weekday, so the Python rule itself gives them (from a Monday, 2024-01-01).
    monday = dt.date(2024, 1, 1)
    days = rules.first_visit_working_days
    weekdays = [monday + dt.timedelta(days=d) for d in range(7)]
    offsets = [(add_working_days(d, days) - d).days for d in weekdays]
    first = Case(
        When(IsNull(F("identified_on"), True), then=_date(today)),
        default=_DaysAfter(
            F("identified_on"),
            Case(
                *[When(identified_weekday=d + 1, then=_int(n)) for d, n in enumerate(offsets)],
                output_field=IntegerField(),
            ),
        ),
    )
    quota = rules.key_care_home_visits_per_quarter
    after_last = _DaysAfter(home, _int(QUARTER_DAYS // quota))
    in_quarter = F("home_this_quarter") + Case(
        When(feed_visit__gte=quarter_start(today), then=_int(1)),
        default=_int(0),
        output_field=IntegerField(),
    )
    key_care = Case(
        When(IsNull(home, True), then=_date(today)),
        When(
            GreaterThanOrEqual(in_quarter, _int(quota)),
            then=Greatest(after_last, _date(next_quarter_start(today))),
        ),
        default=after_last,
    )
    raised = _raised(rules)
    every = (
        Case(
            When(raised, then=_int(rules.raised.home_visit_every_months)),
            default=_int(rules.home_visit_every_months),
            output_field=IntegerField(),
        )
        if raised is not None
        else _int(rules.home_visit_every_months)
    )
    home_due = Case(When(IsNull(home, True), then=_date(today)), default=_MonthsAfter(home, every))
    contact_due = _MonthsAfter(contact, _int(rules.contact_every_months))
    return Case(
        When(IsNull(contact, True), then=first),
        When(is_key_care=True, then=key_care),
        # next_due takes the contact if it comes strictly first, else the home visit: the
        # earlier date either way.
        default=Least(contact_due, home_due),
        output_field=DateField(),
    )


def _planned(children: QuerySet[Child], *, rules: Visits, today: dt.date) -> QuerySet[Child]:
    """``children`` with their next due day (``due``) as one SQL expression: the visit
    history in one grouped join (so each date is read once per child), the assessment grade
    and the parents' latest states as subqueries the raised-pace branch alone asks for."""
    start = quarter_start(today)
    latest_visit = Visit.objects.filter(child=OuterRef("pk")).order_by("-visited_on", "-pk")
    latest_grade = Assessment.objects.filter(child=OuterRef("pk")).order_by(*LATEST_FIRST)
    return children.alias(
        feed=FilteredRelation(
            "records",
            condition=Q(records__source="visit_survey", records__round=F("last_round")),
        ),
        last_home=Max("visits__visited_on", filter=Q(visits__kind=Visit.Kind.HOME)),
        last_contact=Max("visits__visited_on"),
        home_this_quarter=Count(
            "visits",
            filter=Q(visits__kind=Visit.Kind.HOME, visits__visited_on__gte=start),
            distinct=True,  # the feed records' join repeats a child's visits
        ),
        feed_visit=Max("feed__record_date"),
        # An aggregate of the one first round, so that it needs no GROUP BY of its own.
        identified_on=Max(TruncDate("first_round__completed_at")),
        identified_weekday=ExtractIsoWeekDay("identified_on"),
        father_now=Subquery(latest_visit.values("father_status")[:1]),
        mother_now=Subquery(latest_visit.values("mother_status")[:1]),
        grade_now=Subquery(latest_grade.values("grade")[:1]),
    ).annotate(due=_OfTheChild(_due_on(rules, today=today), output_field=DateField()))


@dataclass(frozen=True)
class WorklistPage:
    items: list[WorkItem]  # this page's, in the worklist's order
    page: Page[int]  # where the page is (its object_list: the items' child pks)
    counts: dict[Status, int]  # of the whole worklist (under the area chosen)


class _PlannedPks(Sequence[int]):
    """The planned children's pks in the worklist's order, for the paginator: the count is
    known already (the status counts add up to it); a page is one LIMIT query over the
    plan's statement."""

    def __init__(self, plan: tuple[str, tuple[Any, ...]], total: int) -> None:
        self.plan = plan
        self.total = total

    def __len__(self) -> int:
        return self.total

    @overload
    def __getitem__(self, index: int) -> int: ...
    @overload
    def __getitem__(self, index: slice) -> list[int]: ...
    def __getitem__(self, index: int | slice) -> int | list[int]:
        if not isinstance(index, slice):
            return self[index : index + 1][0]
        start = index.start or 0
        stop = min(self.total, self.total if index.stop is None else index.stop)
        if stop <= start:
            return []
        sql, params = self.plan
        # The status follows the due day, so ordering by the day orders by status first
        # too; the child's code keeps equal days in the ledger's order, as worklist() has.
        query = (
            f'SELECT "id" FROM ({sql}) planned'  # noqa: S608  (Django's own compiled SQL)
            ' ORDER BY "residence_division_id", "due", "child_id" LIMIT %s OFFSET %s'
        )
        with connection.cursor() as cursor:
            cursor.execute(query, (*params, stop - start, start))
            return [pk for (pk,) in cursor.fetchall()]


def paged_worklist(
    *,
    user: User,
    page_number: int | str = 1,
    area: str = "",
    today: dt.date | None = None,
) -> WorklistPage:
    """One page of ``worklist``, in its order (by village, overdue first, then by due day),
    with the count of each status over the whole worklist, or over ``area`` (a division code
    prefix inside the user's scope) when given. Only the page's children are built.

    The plan (each child's due day) is one statement, compiled once: the status counts and
    the page are read from it as a subquery (by the day's ranges that make each status)."""
    today = today or timezone.localdate()
    county = scope_prefix(user)[:6]
    if len(county) < 6:  # EDIT_CHILDREN roles sit at county level or below
        raise ValueError("the worklist is of one county's children")
    rules = profile_in_force(county_code=county, day=today).visits
    children = plan_children(user=user)
    if area:
        children = children.filter(within("residence_division_id", area))
    columns = ("id", "residence_division_id", "child_id", "due")
    plan = _planned(children, rules=rules, today=today).values_list(*columns).order_by()
    try:
        sql, params = plan.query.sql_with_params()
    except EmptyResultSet:  # no share of the children to visit: nothing to plan
        nothing: list[int] = []
        return WorklistPage([], Paginator(nothing, PAGE_SIZE).get_page(1), dict.fromkeys(Status, 0))
    day = connection.ops.adapt_datefield_value
    now, soon = day(today), day(today + dt.timedelta(days=SOON_DAYS))
    with connection.cursor() as cursor:
        cursor.execute(f"{COUNTING} FROM ({sql}) planned", (now, now, now, soon, soon, *params))
        found = cursor.fetchone()
    counts = dict(zip(STATUS_ORDER, found, strict=True))
    page = Paginator(_PlannedPks((sql, tuple(params)), sum(found)), PAGE_SIZE).get_page(page_number)
    pks = list(page.object_list)
    built = {
        item.child.pk: item for item in visit_plan(Child.objects.filter(pk__in=pks), today=today)
    }
    items = [built[pk] for pk in pks if pk in built]
    return WorklistPage(items=items, page=page, counts=counts)
