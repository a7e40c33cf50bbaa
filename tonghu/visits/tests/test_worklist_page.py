"""The worklist page: one page at a time, ordered and counted in SQL exactly as the plan says.

The page orders and counts children by their next due day computed in SQL
(``selectors._due_on``), and builds only the page's children with ``visit_plan`` (Python,
``plan.next_due``). The first test holds the two equal over the histories that matter: never
visited (identified on each weekday, late at night in Beijing, or not at all), contacts and
home visits at month ends, key care below and at its quarterly quota, a department's
visit_survey record (with and without a date), a raised pace by grade, key-care situation or
parent's state, under the profiles that set those differently.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tonghu.accounts.models import User
from tonghu.accounts.roles import Role
from tonghu.children.models import Child, ChildRecord
from tonghu.conftest import World
from tonghu.guardianship.models import Assessment
from tonghu.rounds.models import Round
from tonghu.services.lists import profile_in_force
from tonghu.visits import selectors
from tonghu.visits.models import Visit
from tonghu.visits.plan import Status
from tonghu.visits.selectors import paged_worklist, plan_children, visit_plan, worklist

BEIJING = ZoneInfo("Asia/Shanghai")
VILLAGE = "410402100201"  # the director's (ROLE_PLACES)
OTHER_VILLAGE = "410402100202"  # the same town's other village
TODAYS = (
    dt.date(2026, 11, 23),
    dt.date(2025, 12, 20),  # in the quarter of the key-care home visits
    dt.date(2026, 3, 31),
    dt.date(2026, 1, 1),
    dt.date(2028, 2, 29),
)


def _child(n: int, *, village: str = VILLAGE, **fields: Any) -> Child:
    values: dict[str, Any] = {"is_left_behind": True, **fields}
    return Child.objects.create(
        child_id=f"W{n:06d}", name=f"走访儿童{n}", residence_division_id=village, **values
    )


def _visit(child: Child, user: User, day: dt.date, kind: str = "home", **found: str) -> None:
    Visit.objects.create(
        child=child, kind=kind, visited_on=day, visited_by=user, token=uuid.uuid4(),
        child_version=1, **found,
    )  # fmt: skip


def _round(county: str, day: dt.date, completed: dt.datetime | None) -> Round:
    return Round.objects.create(county_id=county, as_of=day, completed_at=completed)


def _histories(world: World) -> list[Child]:
    """Children to visit with every kind of history the due day depends on."""
    director = world.users[Role.CHILD_DIRECTOR]
    county = "410402000000"
    children = [_child(1), _child(2, in_difficulty=True, is_left_behind=False)]
    # Identified (first round completed) on each weekday; the last ones late at night UTC,
    # already the next day (a Saturday, a Sunday) in Beijing.
    completions = [dt.datetime(2026, 1, 5 + d, 10, 0, tzinfo=BEIJING) for d in range(7)]
    completions += [
        dt.datetime(2026, 1, 2, 20, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 1, 3, 17, 30, tzinfo=dt.UTC),
    ]
    for n, completed in enumerate(completions, start=10):
        round_ = _round(county, dt.date(2025, 1, 1) + dt.timedelta(days=n), completed)
        children.append(_child(n, first_round=round_, last_round=round_))
    last = Round.objects.filter(completed_at__isnull=False).order_by("pk").last()
    assert last is not None
    # Contacts and home visits, at month ends (the month arithmetic clamps to the last day).
    for n, days in enumerate(
        [
            [("home", dt.date(2025, 8, 31))],
            [("contact", dt.date(2025, 10, 31))],
            [("home", dt.date(2025, 11, 30)), ("contact", dt.date(2026, 1, 31))],
            [("contact", dt.date(2025, 12, 31)), ("home", dt.date(2025, 12, 31))],
            [("home", dt.date(2024, 2, 29)), ("contact", dt.date(2025, 5, 31))],
        ],
        start=30,
    ):
        child = _child(n, first_round=last, last_round=last)
        for kind, day in days:
            _visit(child, director, day, kind)
        children.append(child)
    # Key care: never home (only a contact), below the quarter's quota, at or over it.
    for n, homes in enumerate([0, 2, 6, 8], start=40):
        child = _child(n, is_key_care=True, key_care=["hardship"], first_round=last)
        _visit(child, director, dt.date(2025, 12, 1), "contact")
        for k in range(homes):
            _visit(child, director, dt.date(2025, 10, 1) + dt.timedelta(days=10 * k))
        children.append(child)
    # One home visit short of the quota, which a department's record of the quarter fills.
    child = _child(45, is_key_care=True, key_care=["hardship"], first_round=last, last_round=last)
    for k in range(5):
        _visit(child, director, dt.date(2025, 10, 1) + dt.timedelta(days=10 * k))
    ChildRecord.objects.create(
        round=last, child=child, source="visit_survey", record_key="V45",
        record_date=dt.date(2025, 11, 20), file="visit_survey.csv", row=2,
    )  # fmt: skip
    children.append(child)
    # A department's visit_survey record of the child's last round counts as a visit; one
    # without a date does not hide the dated one.
    records: list[list[dt.date | None]] = [
        [dt.date(2025, 12, 20)],
        [dt.date(2025, 10, 2), None],
        [None],
    ]
    for n, dates in enumerate(records, start=50):
        child = _child(n, first_round=last, last_round=last, is_key_care=n == 51)
        _visit(child, director, dt.date(2025, 9, 30), "contact")
        for k, stated in enumerate(dates):
            ChildRecord.objects.create(
                round=last, child=child, source="visit_survey", record_key=f"V{n}-{k}",
                record_date=stated, file="visit_survey.csv", row=k + 2,
            )  # fmt: skip
        children.append(child)
    # Raised: by the latest assessment's grade (an earlier better one does not count), by a
    # key-care situation, by a parent's state on the latest visit.
    graded = _child(60, first_round=last)
    _visit(graded, director, dt.date(2025, 11, 10))
    for day, grade in ((dt.date(2025, 11, 1), "监护正常"), (dt.date(2025, 11, 10), "监护缺失")):
        Assessment.objects.create(
            child=graded, assessed_on=day, grade=grade, answers={}, score=0,
            assessed_by=director,
        )  # fmt: skip
    situation = _child(61, key_care=["psych"], first_round=last)
    _visit(situation, director, dt.date(2025, 11, 10))
    parent = _child(62, first_round=last)
    _visit(parent, director, dt.date(2025, 10, 10), father_status="外出务工")
    _visit(parent, director, dt.date(2025, 11, 10), "contact", mother_status="重残")
    children += [graded, situation, parent]
    # Not to visit: departed, or no longer in any group.
    _child(70, present=False)
    _child(71, is_left_behind=False)
    return children


@pytest.mark.parametrize("profile", ["default", "tongxiang", "pingdingshan"])
def test_the_sql_due_day_is_the_plans(world: World, settings: Any, profile: str) -> None:
    settings.TONGHU_PROFILE = profile
    director = world.users[Role.CHILD_DIRECTOR]
    made = _histories(world)
    for today in TODAYS:
        rules = profile_in_force(county_code="410402", day=today).visits
        planned = selectors._planned(plan_children(user=director), rules=rules, today=today)
        in_sql = {child.pk: child.due for child in planned}  # type: ignore[attr-defined]
        built = visit_plan(plan_children(user=director), today=today)
        in_python = {item.child.pk: item.due.on for item in built}
        assert set(in_python) == {child.pk for child in made}
        assert in_sql == in_python, today


def test_pages_are_the_worklist_in_order_with_its_counts(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(selectors, "PAGE_SIZE", 4)
    director = world.users[Role.CHILD_DIRECTOR]
    _histories(world)
    today = dt.date(2026, 1, 15)
    full = worklist(user=director, today=today)
    first = paged_worklist(user=director, today=today)
    assert first.page.paginator.count == len(full)
    assert first.counts == {s: Counter(i.status for i in full)[s] for s in Status}
    shown = []
    for number in first.page.paginator.page_range:
        page = paged_worklist(user=director, today=today, page_number=number)
        assert len(page.items) <= 4
        shown += page.items
    assert [(i.child.pk, i.due, i.status) for i in shown] == [
        (i.child.pk, i.due, i.status) for i in full
    ]
    past_the_end = paged_worklist(user=director, today=today, page_number=999)
    assert past_the_end.page.number == first.page.paginator.num_pages


def _get(client: Client, user: User, **query: str) -> tuple[str, int]:
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("visits:worklist"), query)
    assert response.status_code == 200
    return response.content.decode(), len(queries)


def test_the_page_shows_fifty_with_a_bounded_number_of_queries(world: World) -> None:
    director = world.users[Role.CHILD_DIRECTOR]
    _child(1)
    _, few = _get(Client(), director)
    for n in range(2, 121):
        _child(n)
    page, many = _get(Client(), director)
    assert many == few  # the same statements for 1 child or 120
    assert page.count('class="work-item') == selectors.PAGE_SIZE
    assert "第 1 / 3 页" in page
    assert 'href="?page=2"' in page
    second, _ = _get(Client(), director, page="2")
    assert second.count('class="work-item') == selectors.PAGE_SIZE
    # Every child is due today (never visited, not yet identified): in the ledger's order.
    assert 'href="/visits/W000051/new/"' in second
    assert 'href="/visits/W000050/new/"' not in second
    assert "W000051" not in page
    last, _ = _get(Client(), director, page="3")
    assert last.count('class="work-item') == 20
    assert '<li class="due-today">今日到期 <strong>120</strong></li>' in last


def test_a_supervisor_picks_a_village(world: World) -> None:
    supervisor = world.users[Role.SUPERVISOR]
    for n in range(1, 4):
        _child(n)
    for n in range(4, 6):
        _child(n, village=OTHER_VILLAGE)
    whole, _ = _get(Client(), supervisor)
    assert whole.count('class="work-item') == 5
    assert 'name="area"' in whole
    assert f'<option value="{OTHER_VILLAGE}">西湾村</option>' in whole
    one, _ = _get(Client(), supervisor, area=OTHER_VILLAGE)
    assert one.count('class="work-item') == 2
    assert "<h2>西湾村</h2>" in one
    assert "<h2>东湾村</h2>" not in one
    assert '<li class="due-today">今日到期 <strong>2</strong></li>' in one
    assert f'<option value="{OTHER_VILLAGE}" selected>' in one
    # A division outside the town (or anything else) is no filter at all.
    stray, _ = _get(Client(), supervisor, area="410402200201")
    assert stray.count('class="work-item') == 5


def test_the_to_visit_index_covers_exactly_the_children_to_visit() -> None:
    """PostgreSQL plans a worklist off the partial index only while its condition is the
    worklist's own filter."""
    (index,) = [i for i in Child._meta.indexes if i.name == "child_to_visit"]
    assert index.condition == selectors.TO_VISIT


def test_a_role_without_the_share_has_an_empty_plan(world: World) -> None:
    _child(1)
    for user in (world.users[Role.DEPARTMENT_OFFICER], world.users[Role.COUNTY_STAFF]):
        user.is_active = user.role != Role.COUNTY_STAFF  # an officer, a disabled clerk
        found = paged_worklist(user=user)
        assert found.page.paginator.count == 0
        assert found.items == []
        assert found.counts == dict.fromkeys(Status, 0)
