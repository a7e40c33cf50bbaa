"""``tonghu remind``: due and overdue visits and lapsed contacts become notifications, once."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command

from tonghu.accounts.roles import Role
from tonghu.children.models import Child
from tonghu.conftest import World, make_user
from tonghu.notifications.models import Notification
from tonghu.visits.models import Visit

TODAY = dt.date(2026, 11, 18)


@pytest.fixture
def village(world: World) -> Child:
    child = world.child_in(Role.CHILD_DIRECTOR)
    found = world.round_for(Role.CHILD_DIRECTOR, inside=True)
    found.completed_at = dt.datetime(2026, 10, 1, 12, tzinfo=dt.UTC)
    found.save()
    Child.objects.filter(pk=child.pk).update(is_left_behind=True, first_round=found)
    return child


def _run(today: dt.date = TODAY) -> str:
    out = StringIO()
    call_command("remind", today=today.isoformat(), stdout=out)
    return out.getvalue()


def test_overdue_visit_and_lapsed_contact_are_sent_once(world: World, village: Child) -> None:
    director = world.users[Role.CHILD_DIRECTOR]
    Visit.objects.create(
        child=village, kind="home", visited_on=TODAY - dt.timedelta(days=200),
        visited_by=director, token="00000000-0000-0000-0000-000000000001", child_version=1,
    )  # fmt: skip
    output = _run()
    notes = Notification.objects.filter(user=director)
    kinds = set(notes.values_list("kind", flat=True))
    assert kinds == {Notification.Kind.VISIT_OVERDUE, Notification.Kind.CONTACT_LAPSED}
    overdue = notes.get(kind=Notification.Kind.VISIT_OVERDUE)
    assert village.child_id in overdue.text
    assert village.name not in overdue.text
    assert "新增站内提醒" in output
    _run()  # the same day again: nothing new
    assert Notification.objects.filter(user=director).count() == notes.count()


def test_a_visit_on_time_sends_no_visit_reminder(world: World, village: Child) -> None:
    director = world.users[Role.CHILD_DIRECTOR]
    Visit.objects.create(
        child=village, kind="home", visited_on=TODAY - dt.timedelta(days=3),
        visited_by=director, token="00000000-0000-0000-0000-000000000002", child_version=1,
    )  # fmt: skip
    _run()
    assert not Notification.objects.filter(
        user=director, kind__in=[Notification.Kind.VISIT_OVERDUE, Notification.Kind.VISIT_DUE]
    ).exists()


def test_other_villages_children_are_not_in_a_directors_reminders(
    world: World, village: Child
) -> None:
    other = world.child_out(Role.CHILD_DIRECTOR)
    Child.objects.filter(pk=other.pk).update(is_left_behind=True)
    _run()
    texts = " ".join(
        Notification.objects.filter(user=world.users[Role.CHILD_DIRECTOR]).values_list(
            "text", flat=True
        )
    )
    assert village.child_id in texts
    assert other.child_id not in texts


def test_bad_date_is_refused_in_chinese(world: World) -> None:
    from django.core.management.base import CommandError  # noqa: PLC0415

    make_user("spare", Role.CHILD_DIRECTOR, world.division_in(Role.CHILD_DIRECTOR))
    with pytest.raises(CommandError, match="不是有效日期"):
        call_command("remind", today="2026-13-01")
