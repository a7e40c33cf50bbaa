"""The roster: workload and flags per village (the >30 rule at its edges), training records,
who may see and change what, masked phones, the audit, and the export."""

from __future__ import annotations

import datetime as dt
import io
import itertools
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from tonghu.accounts.models import User
from tonghu.accounts.roles import Role
from tonghu.audit.models import Action, AuditEntry
from tonghu.children.models import Child
from tonghu.conftest import World, make_user
from tonghu.divisions.models import Division
from tonghu.privacy.sensitive import mask_phone
from tonghu.roster.models import Training, Worker
from tonghu.roster.selectors import (
    FLAG_UNDERSTAFFED,
    FLAG_VACANT,
    Roster,
    VillageRow,
    roster_for,
)
from tonghu.roster.services import roster_export, training_add, worker_update
from tonghu.services.models import ServiceList

TODAY = dt.date(2025, 7, 1)
TOWN = "410402100000"  # 焦店镇: the fixture's supervisor; director at 东湾村 (…201)
OTHER_TOWN = "410402200000"
PHONE = "13812345678"
_numbers = itertools.count(1)


def village(code: str, name: str = "测试村") -> str:
    Division.objects.create(code=code, name=name, level="village", parent_id=code[:9] + "000")
    return code


def children(code: str, count: int, *, present: bool = True, **flags: bool) -> None:
    Child.objects.bulk_create(
        Child(
            child_id=f"R{next(_numbers):07d}",
            name="儿童",
            residence_division_id=code,
            present=present,
            **flags,
        )
        for _ in range(count)
    )


def director(code: str, *, name: str = "", active: bool = True) -> User:
    user = make_user(f"d_{code}_{next(_numbers)}", Role.CHILD_DIRECTOR, code)
    user.last_name, user.is_active = name, active
    user.save()
    return user


def row(roster: Roster, code: str) -> VillageRow:
    return next(v for v in roster.villages if v.code == code)


def county_roster(world: World, **kwargs: str) -> Roster:
    return roster_for(user=world.users[Role.COUNTY_STAFF], today=TODAY, **kwargs)


# --- the rule ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("needy", "directors", "flagged"),
    [(30, 1, False), (31, 1, True), (60, 2, False), (61, 2, True)],
)
def test_more_needy_children_than_the_directors_may_serve_flags_the_village(
    world: World, needy: int, directors: int, flagged: bool
) -> None:
    code = village("410402100203")
    for _ in range(directors):
        director(code)
    left = needy // 2
    children(code, left, is_left_behind=True)
    children(code, needy - left, in_difficulty=True)
    children(code, 7)  # neither: counted among all children only
    found = row(county_roster(world), code)
    assert found.left_behind_or_difficulty == needy
    assert found.children == needy + 7
    assert found.understaffed is flagged
    assert found.flags == ([FLAG_UNDERSTAFFED] if flagged else [])


def test_a_child_both_left_behind_and_in_difficulty_counts_once(world: World) -> None:
    code = village("410402100203")
    director(code)
    children(code, 30, is_left_behind=True, in_difficulty=True, is_key_care=True)
    found = row(county_roster(world), code)
    assert (found.left_behind_or_difficulty, found.key_care, found.children) == (30, 30, 30)
    assert not found.understaffed
    children(code, 1, is_left_behind=True, in_difficulty=True)
    assert row(county_roster(world), code).understaffed


def test_departed_children_are_not_counted(world: World) -> None:
    code = village("410402100203")
    director(code)
    children(code, 30, is_left_behind=True)
    children(code, 5, is_left_behind=True, present=False)
    found = row(county_roster(world), code)
    assert (found.left_behind_or_difficulty, found.children) == (30, 30)
    assert not found.understaffed


def test_a_village_without_an_active_director_is_flagged_vacant(world: World) -> None:
    code = village("410402100203")
    director(code, active=False)  # a deactivated account serves no one
    children(code, 40, is_left_behind=True)
    found = row(county_roster(world), code)
    assert found.vacant
    assert found.flags == [FLAG_VACANT]
    assert not found.understaffed  # no director to add to: the flag is "no director"
    assert row(county_roster(world), "410402100202").vacant  # 西湾村 has none
    assert not row(county_roster(world), "410402100201").vacant


def test_the_limit_comes_from_the_profile_in_force(world: World) -> None:
    code = village("410402100203")
    director(code)
    children(code, 12, is_left_behind=True)
    assert not row(county_roster(world), code).understaffed
    ServiceList.objects.create(
        county_id="410402000000",
        effective_from=dt.date(2025, 1, 1),
        file_name="xinhua.yaml",
        content="extends: default\nkey: xinhua\nname: 新华区\nroster:\n"
        "  children_per_director_max: 10\n",
    )
    found = row(county_roster(world), code)
    assert found.max_per_director == 10
    assert found.understaffed
    # Before the county's list took effect the deployment's profile applied.
    earlier = roster_for(user=world.users[Role.COUNTY_STAFF], today=dt.date(2024, 12, 31))
    assert row(earlier, code).max_per_director == 30


def test_filters_keep_only_flagged_villages(world: World) -> None:
    crowded = village("410402100203")
    director(crowded)
    children(crowded, 31, in_difficulty=True)
    understaffed = county_roster(world, only="understaffed")
    assert [v.code for v in understaffed.villages] == [crowded]
    vacant = {v.code for v in county_roster(world, only="vacant").villages}
    assert vacant == {"410402100202", "410402200201"}
    page = _client(world.users[Role.COUNTY_STAFF]).get(reverse("roster:list"), {"only": "vacant"})
    text = page.content.decode()
    assert 'id="village-410402100202"' in text
    assert f'id="village-{crowded}"' not in text


def test_the_roster_reads_a_bounded_number_of_queries(world: World) -> None:
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            county_roster(world)
        return len(captured)

    few = queries()
    county = world.users[Role.COUNTY_STAFF]
    for number in range(3, 43):
        code = village(f"410402100{number:03d}")
        worker = director(code)
        children(code, 3, is_left_behind=True)
        training_add(user=county, worker_id=worker.pk, on=TODAY, topic="培训", hours=Decimal(2))
        worker_update(user=county, worker_id=worker.pk, phone=PHONE, appointed_on=None)
    assert queries() == few


# --- trainings ----------------------------------------------------------------------------


def test_training_hours_are_summed_with_the_latest_date(world: World) -> None:
    worker = world.users[Role.CHILD_DIRECTOR]
    supervisor = world.users[Role.SUPERVISOR]
    training_add(
        user=supervisor, worker_id=worker.pk, on=dt.date(2025, 3, 1), topic="政策", hours=Decimal(4)
    )
    training_add(
        user=supervisor,
        worker_id=worker.pk,
        on=dt.date(2025, 5, 2),
        topic="家访",
        hours=Decimal("2.5"),
    )
    (found,) = row(county_roster(world), worker.division_id).directors
    assert found.training_hours == Decimal("6.5")
    assert found.last_training == dt.date(2025, 5, 2)
    page = _client(worker).get(reverse("roster:worker", args=[worker.pk])).content.decode()
    assert "6.5" in page
    assert "家访" in page
    entry = AuditEntry.objects.filter(object_type="roster_training").first()
    assert entry is not None
    assert entry.action == Action.CREATE


def test_a_supervisor_records_trainings_for_the_towns_directors_only(world: World) -> None:
    worker = world.users[Role.CHILD_DIRECTOR]
    supervisor = world.users[Role.SUPERVISOR]
    other = make_user("u_sup_other", Role.SUPERVISOR, OTHER_TOWN)
    payload = {"on": "2025-03-01", "topic": "业务培训", "hours": "3"}
    url = reverse("roster:training_add", args=[worker.pk])
    assert _client(other).get(reverse("roster:worker", args=[worker.pk])).status_code == 404
    assert _client(other).post(url, payload).status_code == 404
    assert "u_roster" not in _client(other).get(reverse("roster:list")).content.decode()
    assert (
        f'id="worker-{worker.pk}"'
        not in _client(other).get(reverse("roster:list")).content.decode()
    )
    # Not for themselves or another supervisor, and a director records none.
    own = reverse("roster:training_add", args=[supervisor.pk])
    assert _client(supervisor).post(own, payload).status_code == 404
    assert _client(worker).post(url, payload).status_code == 404
    assert not Training.objects.exists()
    response = _client(supervisor).post(url, payload)
    assert response.status_code == 200
    assert "已登记培训记录" in response.content.decode()
    (training,) = Training.objects.all()
    assert (training.user, training.hours, training.recorded_by) == (worker, Decimal(3), supervisor)


@pytest.mark.parametrize(
    ("hours", "message"),
    [("0", "学时应大于 0"), ("101", "学时不能超过 100"), ("两小时", "学时应为数字")],
)
def test_bad_hours_are_refused_and_the_form_keeps_what_was_typed(
    world: World, hours: str, message: str
) -> None:
    worker = world.users[Role.CHILD_DIRECTOR]
    response = _client(world.users[Role.COUNTY_STAFF]).post(
        reverse("roster:training_add", args=[worker.pk]),
        {"on": "2025-03-01", "topic": "心理辅导培训", "hours": hours},
    )
    text = response.content.decode()
    assert response.status_code == 200
    assert message in text
    assert "心理辅导培训" in text
    assert not Training.objects.exists()


def test_a_training_in_the_future_is_refused(world: World) -> None:
    worker = world.users[Role.CHILD_DIRECTOR]
    with pytest.raises(ValidationError, match="不能晚于今天"):
        training_add(
            user=world.users[Role.COUNTY_STAFF],
            worker_id=worker.pk,
            on=timezone.localdate() + dt.timedelta(days=2),
            topic="培训",
            hours=Decimal(1),
        )


# --- phones, editing and the audit --------------------------------------------------------


def test_mask_phone() -> None:
    assert mask_phone(PHONE) == "138****5678"
    assert mask_phone("") == ""


def test_county_staff_edit_the_phone_and_only_county_staff_see_it_in_full(
    world: World,
) -> None:
    worker = world.users[Role.CHILD_DIRECTOR]
    county = world.users[Role.COUNTY_STAFF]
    url = reverse("roster:worker_edit", args=[worker.pk])
    payload = {"phone": PHONE, "appointed_on": "2024-01-01", "note": ""}
    for role in (Role.SUPERVISOR, Role.CHILD_DIRECTOR, Role.CITY_STAFF):
        assert _client(world.users[role]).post(url, payload).status_code == 404
    assert not Worker.objects.exists()
    assert _client(county).post(url, payload).status_code == 200
    profile = Worker.objects.get(user=worker)
    assert (profile.phone, profile.appointed_on) == (PHONE, dt.date(2024, 1, 1))
    update = AuditEntry.objects.get(object_type="roster_worker")
    assert update.action == Action.UPDATE
    assert PHONE not in update.detail
    assert "手机号码" in update.detail
    reveals = AuditEntry.objects.filter(object_type="roster_phone")
    assert reveals.count() == 1  # the page shown after saving showed the number

    for role in (Role.SUPERVISOR, Role.CHILD_DIRECTOR, Role.CITY_STAFF):
        client = _client(world.users[role])
        for page in (reverse("roster:list"), reverse("roster:worker", args=[worker.pk])):
            text = client.get(page).content.decode()
            assert "138****5678" in text
            assert PHONE not in text
    assert reveals.count() == 1  # masked numbers reveal nothing

    text = _client(county).get(reverse("roster:list")).content.decode()
    assert PHONE in text
    assert reveals.count() == 2
    reveal = reveals.order_by("-id").first()
    assert reveal is not None
    assert reveal.action == Action.VIEW
    assert reveal.object_ids == [str(worker.pk)]
    assert reveal.actor == county
    assert PHONE not in reveal.detail


def test_a_bad_phone_is_refused_in_chinese_and_nothing_is_lost(world: World) -> None:
    worker = world.users[Role.CHILD_DIRECTOR]
    response = _client(world.users[Role.COUNTY_STAFF]).post(
        reverse("roster:worker_edit", args=[worker.pk]),
        {"phone": "1381234", "appointed_on": "2024-01-01", "note": "兼任妇联执委"},
    )
    text = response.content.decode()
    assert response.status_code == 200
    assert "请填写 11 位手机号码" in text
    assert "1381234" in text
    assert "兼任妇联执委" in text
    assert not Worker.objects.exists()
    assert not AuditEntry.objects.filter(object_type="roster_worker").exists()


# --- scope ----------------------------------------------------------------------------------


def test_a_director_sees_only_their_own_village_and_page(world: World) -> None:
    worker = world.users[Role.CHILD_DIRECTOR]
    colleague = director(worker.division_id, name="同村")
    neighbour = director("410402100202", name="邻村")
    found = roster_for(user=worker, today=TODAY)
    assert [v.code for v in found.villages] == [worker.division_id]
    assert {d.user_id for d in found.villages[0].directors} == {worker.pk, colleague.pk}
    assert [d.linked for d in found.villages[0].directors if d.user_id == colleague.pk] == [False]
    assert not found.towns[0].supervisors
    client = _client(worker)
    assert client.get(reverse("roster:worker", args=[worker.pk])).status_code == 200
    assert client.get(reverse("roster:worker", args=[colleague.pk])).status_code == 404
    assert client.get(reverse("roster:worker", args=[neighbour.pk])).status_code == 404


def test_the_county_roster_lists_towns_with_supervisors(world: World) -> None:
    found = county_roster(world)
    assert [t.code for t in found.towns] == [TOWN, OTHER_TOWN]
    assert [s.user_id for s in found.towns[0].supervisors] == [world.users[Role.SUPERVISOR].pk]
    assert found.counts == {
        "villages": 3,
        "directors": 1,
        "supervisors": 1,
        "understaffed": 0,
        "vacant": 2,
    }


@pytest.mark.parametrize("role", [Role.REPORTER, Role.DEPARTMENT_OFFICER, Role.AUDITOR])
def test_other_roles_are_refused(world: World, role: Role) -> None:
    assert _client(world.users[role]).get(reverse("roster:list")).status_code == 403
    assert _client(world.users[role]).get(reverse("roster:export")).status_code == 403


# --- export -------------------------------------------------------------------------------


def _sheet(content: bytes) -> list[tuple[object, ...]]:
    book = load_workbook(io.BytesIO(content), read_only=True)
    return [tuple(r) for r in book["儿童主任台账"].iter_rows(values_only=True)]


def test_the_export_lists_workers_counts_and_flags(world: World) -> None:
    county = world.users[Role.COUNTY_STAFF]
    worker = world.users[Role.CHILD_DIRECTOR]
    worker.last_name = "=HYPERLINK(1)"
    worker.save()
    worker_update(user=county, worker_id=worker.pk, phone=PHONE, appointed_on=dt.date(2024, 1, 1))
    training_add(user=county, worker_id=worker.pk, on=TODAY, topic="培训", hours=Decimal(4))
    crowded = village("410402100203", "拥挤村")
    director(crowded, name="王")
    children(crowded, 31, is_left_behind=True)

    rows = _sheet(roster_export(user=county, today=TODAY, reason="上报民政厅"))
    header = rows[0]
    assert header[:6] == (
        "县（市、区）",
        "乡镇（街道）",
        "村（社区）代码",
        "村（社区）",
        "岗位",
        "姓名",
    )
    by_village = {r[2]: r for r in rows[1:] if r[2]}
    mine = by_village[worker.division_id]
    assert mine[5] == "'=HYPERLINK(1)"  # formula injection defused
    assert mine[6] == PHONE
    assert mine[8] == 4
    assert (mine[10], mine[11]) == (1, 0)
    assert by_village[crowded][11] == 31
    assert by_village[crowded][14] == FLAG_UNDERSTAFFED
    assert by_village["410402100202"][14] == FLAG_VACANT
    assert by_village["410402100202"][5] in {
        "",
        None,
    }
    assert any(r[4] == "儿童督导员" for r in rows[1:])
    export = AuditEntry.objects.get(action=Action.EXPORT, object_type="roster")
    assert str(worker.pk) in export.object_ids
    assert PHONE not in export.detail

    supervisor = world.users[Role.SUPERVISOR]
    supervised = _sheet(roster_export(user=supervisor, today=TODAY, reason="核对台账"))
    (theirs,) = [r for r in supervised if r[2] == worker.division_id]
    assert theirs[6] == "138****5678"
    assert not [r for r in supervised if str(r[2] or "").startswith("410402200")]

    only = _sheet(
        roster_export(user=county, today=TODAY, only="understaffed", reason="核对增配情况")
    )
    assert [r[2] for r in only[1:] if r[2]] == [crowded]


def test_the_export_view_asks_for_a_reason_then_answers_an_xlsx_file(world: World) -> None:
    client = _client(world.users[Role.CITY_STAFF])
    asked = client.get(reverse("roster:export"))
    assert asked.status_code == 200
    assert "导出事由" in asked.content.decode()
    refused = client.post(reverse("roster:export"), {"reason": "看"})
    assert refused.status_code == 400
    assert "请填写导出事由" in refused.content.decode()
    response = client.post(reverse("roster:export"), {"reason": "核对市级台账"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert _sheet(response.content)[0][0] == "县（市、区）"


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client
