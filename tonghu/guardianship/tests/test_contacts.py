"""亲子联系: the weekly contact log of left-behind children and when it has lapsed."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from tonghu.accounts.roles import Role
from tonghu.children.models import Child
from tonghu.conftest import World
from tonghu.guardianship.models import ParentContact
from tonghu.guardianship.selectors import is_lapsed, lapsed_contacts
from tonghu.guardianship.services import contact_record
from tonghu.policy import load_profile

pytestmark = pytest.mark.django_db
TODAY = dt.date(2025, 7, 1)
LIMIT = load_profile().visits.parent_contact_every_days


def _left_behind(world: World, role: Role = Role.CHILD_DIRECTOR) -> Child:
    child = world.child_in(role)
    child.is_left_behind = True
    child.save()
    return child


def _contact(child: Child, days_ago: int) -> None:
    ParentContact.objects.create(
        child=child, contacted_on=TODAY - dt.timedelta(days=days_ago), who="mother", channel="phone"
    )


def _lapsed(world: World) -> dict[str, tuple[dt.date | None, int]]:
    rows = lapsed_contacts(children=Child.objects.all(), today=TODAY)
    return {row.child.child_id: (row.last_contact, row.days_since) for row in rows}


def test_default_limit_is_weekly() -> None:
    assert LIMIT == 7
    assert not is_lapsed(days_since=LIMIT, limit_days=LIMIT)
    assert is_lapsed(days_since=LIMIT + 1, limit_days=LIMIT)


def test_contact_exactly_at_the_limit_is_not_lapsed(world: World) -> None:
    child = _left_behind(world)
    _contact(child, days_ago=LIMIT)
    _contact(child, days_ago=LIMIT + 20)  # an older one does not count
    assert _lapsed(world) == {}


def test_one_day_beyond_the_limit_is_lapsed(world: World) -> None:
    child = _left_behind(world)
    _contact(child, days_ago=LIMIT + 1)
    row = lapsed_contacts(children=Child.objects.all(), today=TODAY)[0]
    assert (row.child, row.last_contact, row.days_since) == (
        child,
        TODAY - dt.timedelta(days=LIMIT + 1),
        LIMIT + 1,
    )
    assert row.limit_days == LIMIT


def test_without_contact_the_clock_runs_from_first_identification(world: World) -> None:
    child = _left_behind(world)
    round_ = world.rounds["410402000000"]
    child.first_round = round_
    child.save()
    found = timezone.make_aware(dt.datetime.combine(TODAY - dt.timedelta(days=LIMIT), dt.time(9)))
    round_.completed_at = found
    round_.save()
    assert _lapsed(world) == {}
    round_.completed_at = found - dt.timedelta(days=1)
    round_.save()
    assert _lapsed(world) == {child.child_id: (None, LIMIT + 1)}


def test_without_contact_or_identification_nothing_has_lapsed(world: World) -> None:
    _left_behind(world)
    assert _lapsed(world) == {}


def test_only_present_left_behind_children(world: World) -> None:
    child = _left_behind(world)
    _contact(child, days_ago=30)
    other = world.child_out(Role.CHILD_DIRECTOR)  # not left-behind
    _contact(other, days_ago=30)
    assert set(_lapsed(world)) == {child.child_id}
    child.present = False
    child.save()
    assert _lapsed(world) == {}


def test_only_the_children_asked_about(world: World) -> None:
    child = _left_behind(world)
    _contact(child, days_ago=30)
    others = Child.objects.exclude(pk=child.pk)
    assert lapsed_contacts(children=others, today=TODAY) == []


def test_bounded_queries(world: World, django_assert_max_num_queries: Any) -> None:
    children = list(world.children_by_home.values())
    Child.objects.update(is_left_behind=True)
    for child in children:
        _contact(child, days_ago=LIMIT + 3)
        _contact(child, days_ago=LIMIT + 5)
    # One for the children, one per county for the service list in force (three counties).
    with django_assert_max_num_queries(4):
        rows = lapsed_contacts(children=Child.objects.all(), today=TODAY)
        assert all(row.child.child_id for row in rows)
    assert len(rows) == len(children)
    assert {row.days_since for row in rows} == {LIMIT + 3}


def test_record_contact(world: World) -> None:
    child = _left_behind(world)
    contact = contact_record(
        user=world.users[Role.CHILD_DIRECTOR],
        child_id=child.child_id,
        contacted_on=timezone.localdate(),
        who="both",
        channel="video",
        note="视频通话",
    )
    assert (contact.get_who_display(), contact.get_channel_display()) == ("父母", "视频")
    assert contact.recorded_by == world.users[Role.CHILD_DIRECTOR]


def test_contact_refused_for_a_child_not_left_behind(world: World) -> None:
    with pytest.raises(ValidationError, match="不是留守儿童"):
        contact_record(
            user=world.users[Role.CHILD_DIRECTOR],
            child_id=world.child_in(Role.CHILD_DIRECTOR).child_id,
            contacted_on=timezone.localdate(),
            who="mother",
            channel="phone",
        )
    assert not ParentContact.objects.exists()


def test_contact_in_the_future_refused(world: World) -> None:
    child = _left_behind(world)
    with pytest.raises(ValidationError, match="联系日期不能晚于今天"):
        contact_record(
            user=world.users[Role.CHILD_DIRECTOR],
            child_id=child.child_id,
            contacted_on=timezone.localdate() + dt.timedelta(days=1),
            who="mother",
            channel="phone",
        )
    assert not ParentContact.objects.exists()
