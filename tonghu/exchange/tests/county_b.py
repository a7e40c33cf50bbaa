"""The hukou county's own database for the two-database test, seeded in its own process:
``tonghu shell -c "from tonghu.exchange.tests.county_b import seed; seed()"``.

Synthetic data only: 卫东区 (410403) knows two of 新华区's migrant children — one by ID
number (孤儿 since 2021-03-01), one by name, birth date and sex (事实无人抚养)."""

from __future__ import annotations

import datetime as dt

from tonghu.accounts.models import User
from tonghu.accounts.roles import Role
from tonghu.children.models import Child, ChildRecord
from tonghu.divisions.models import Division
from tonghu.rounds.models import Round

TREE = (
    ("410000000000", "河南省", "province", None),
    ("410400000000", "平顶山市", "city", "410000000000"),
    ("410402000000", "新华区", "county", "410400000000"),
    ("410403000000", "卫东区", "county", "410400000000"),
    ("410403001000", "东安路街道", "town", "410403000000"),
    ("410403001001", "东安社区", "village", "410403001000"),
)
FIRST_ID = "41040300000001"
SECOND_ID = "41040300000002"
STAFF = "b_staff"


def seed(*, first_id_number: str) -> None:
    Division.objects.bulk_create(
        Division(code=code, name=name, level=level, parent_id=parent)
        for code, name, level, parent in TREE
    )
    round_ = Round.objects.create(county_id="410403000000", as_of=dt.date(2025, 7, 31))
    home = {"residence_division_id": "410403001001", "hukou_code": "410403001001"}
    first = Child.objects.create(
        child_id=FIRST_ID, name="测试甲", sex="男", birth_date=dt.date(2015, 3, 2),
        id_number=first_id_number, difficulty=["orphan"], in_difficulty=True,
        first_round=round_, last_round=round_, **home,
    )  # fmt: skip
    ChildRecord.objects.create(
        round=round_, child=first, source="civil_status", record_key="MZ0001",
        record_date=dt.date(2021, 3, 1), file="civil_status.csv", row=2,
        values={"category": "孤儿", "starts_on": "2021-03-01", "id_number": first_id_number},
    )  # fmt: skip
    Child.objects.create(
        child_id=SECOND_ID, name="测试乙", sex="女", birth_date=dt.date(2016, 5, 20),
        difficulty=["fuc"], in_difficulty=True, **home,
    )  # fmt: skip
    staff = User(username=STAFF, role=Role.COUNTY_STAFF, division_id="410403000000")
    staff.set_unusable_password()
    staff.save()
