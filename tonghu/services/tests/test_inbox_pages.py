"""The referral inbox pages through a tab by answer date, then id, with the tab's count:
only the department's referrals for children living in the officer's jurisdiction now,
whichever way that count is taken (the department's all less the children's living outside,
or joining the children in scope), and with few statements per page however many there are."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tonghu.accounts.models import User
from tonghu.accounts.roles import Department, Role
from tonghu.children.models import Child
from tonghu.conftest import World
from tonghu.services import selectors
from tonghu.services.models import Referral

INSIDE = ("410402100201", "410402100202", "410402200201")  # the officer's county
OUTSIDE = ("410403001001", "410102001001")  # a neighbouring county, another city
STATUSES = ("pending", "accepted", "pending", "delivered", "declined", "accepted", "closed")


def _referrals(world: World) -> list[Referral]:
    """Referrals of several answer dates (many sharing one, as a round opens them), of every
    status, of two departments, for children inside and outside the county, their ids
    interleaved so that neither the id nor the date alone gives the inbox's order."""
    today = timezone.localdate()
    dates = [today + dt.timedelta(days=d) for d in (20, -3, 20, 5, 20, -10)]
    round_ = world.round_for(Role.DEPARTMENT_OFFICER, inside=True)
    made = []
    for n in range(90):
        home = (INSIDE + OUTSIDE)[n % 5]
        child = Child.objects.create(
            child_id=f"R{n:06d}", name=f"儿童{n}", residence_division_id=home
        )
        made.append(
            Referral.objects.create(
                child=child, round=round_, service_code="S03",
                department="education" if n % 9 else "health",
                status=STATUSES[n % len(STATUSES)], due_on=dates[n % len(dates)],
            )
        )  # fmt: skip
    return made


def _expected(made: list[Referral], keep: set[str], *, overdue: bool = False) -> list[int]:
    today = timezone.localdate()
    rows = [
        r for r in made
        if r.department == "education" and r.child.residence_division_id in INSIDE
        and r.status in keep and (not overdue or r.due_on < today)
    ]  # fmt: skip
    return [r.pk for r in sorted(rows, key=lambda r: (r.due_on, r.pk))]


def _pages(client: Client, officer: User, status: str) -> tuple[list[list[int]], int, list[int]]:
    """Every page of the tab: each page's referral ids, the count shown, statements a page."""
    client.force_login(officer)
    pages: list[list[int]] = []
    statements = []
    number = 1
    while True:
        query = {"status": status, "page": str(number)}
        with CaptureQueriesContext(connection) as queries:
            response = client.get(reverse("services:inbox"), query)
        statements.append(len(queries))
        page = response.content.decode()
        total = int(re.search(r"共 (\d+) 项", page).group(1))  # type: ignore[union-attr]
        pages.append([int(pk) for pk in re.findall(r'id="referral-(\d+)"', page)])
        if f"page={number + 1}" not in page:
            return pages, total, statements
        number += 1


@pytest.mark.parametrize("few_outside", [10_000, 0], ids=["less-the-outside", "join"])
def test_each_tab_pages_in_order_with_its_count(
    world: World, monkeypatch: pytest.MonkeyPatch, few_outside: int
) -> None:
    monkeypatch.setattr(selectors, "INBOX_PAGE_SIZE", 4)
    monkeypatch.setattr(selectors, "FEW_OUTSIDE", few_outside)
    officer = world.users[Role.DEPARTMENT_OFFICER]
    assert officer.department == Department.EDUCATION
    made = _referrals(world)
    client = Client()
    for status, keep, overdue in (
        ("open", {"pending", "accepted"}, False),
        ("overdue", {"pending"}, True),
        ("done", {"delivered"}, False),
    ):
        expected = _expected(made, keep, overdue=overdue)
        assert len(expected) > 4  # more than one page
        pages, total, statements = _pages(client, officer, status)
        assert [pk for page in pages for pk in page] == expected, status
        assert total == len(expected)
        # A page reads each answer date it spans (in id order): nothing else grows.
        due = dict(Referral.objects.values_list("pk", "due_on"))
        dates = [len({due[pk] for pk in page}) for page in pages]
        assert len({n - d for n, d in zip(statements, dates, strict=True)}) == 1


def test_a_city_officer_counts_the_whole_city(world: World) -> None:
    officer = world.users[Role.DEPARTMENT_OFFICER]
    officer.division_id = "410400000000"
    officer.save()
    made = _referrals(world)
    city = {"410402100201", "410402100202", "410402200201", "410403001001"}
    expected = [
        r.pk for r in sorted(made, key=lambda r: (r.due_on, r.pk))
        if r.department == "education" and r.status in {"pending", "accepted"}
        and r.child.residence_division_id in city
    ]  # fmt: skip
    page = selectors.inbox_page(user=officer, statuses=("pending", "accepted"), page_number=1)
    assert page.paginator.count == len(expected)
    assert [r.pk for r in page.object_list] == expected[: selectors.INBOX_PAGE_SIZE]
