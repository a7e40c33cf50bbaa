"""The worklist follows the assessment at once: a worse grade makes home visits monthly."""

from __future__ import annotations

import uuid

from django.utils import timezone

from tonghu.accounts.roles import Role
from tonghu.children.models import Child
from tonghu.conftest import World
from tonghu.guardianship.services import assessment_record
from tonghu.policy.profile import load_profile
from tonghu.visits.models import Visit
from tonghu.visits.plan import Status, months_after
from tonghu.visits.selectors import worklist

CODES = [indicator.code for indicator in load_profile().assessment.indicators]


def _all(level: str) -> dict[str, str]:
    return dict.fromkeys(CODES, level)


def test_a_worse_grade_raises_the_visit_frequency_at_once(world: World) -> None:
    director = world.users[Role.CHILD_DIRECTOR]
    child = world.child_in(Role.CHILD_DIRECTOR)
    Child.objects.filter(pk=child.pk).update(is_left_behind=True)
    today = timezone.localdate()
    last = months_after(today, -2)  # two months ago: on time for every 3 months, late for 1
    Visit.objects.create(child=child, kind="home", visited_on=last, visited_by=director,
                         token=uuid.uuid4(), child_version=1)  # fmt: skip
    Visit.objects.create(child=child, kind="contact", visited_on=today, visited_by=director,
                         token=uuid.uuid4(), child_version=1)  # fmt: skip
    before = next(i for i in worklist(user=director) if i.child.pk == child.pk)
    assert before.status is not Status.OVERDUE
    assert before.raised is False

    assessment_record(user=director, child_id=child.child_id, answers=_all("好"),
                      assessed_on=today)  # fmt: skip
    normal = next(i for i in worklist(user=director) if i.child.pk == child.pk)
    assert normal.grade == "监护正常"
    assert normal.raised is False

    assessment_record(user=director, child_id=child.child_id, answers=_all("差"),
                      assessed_on=today)  # fmt: skip
    after = next(i for i in worklist(user=director) if i.child.pk == child.pk)
    assert after.grade == "监护缺失"
    assert after.raised is True
    assert after.due.on == months_after(last, 1)
    assert after.status is Status.OVERDUE
    assert before.due.on > today
