"""Two counties of the shared test tree exchanging packages: 新华区 410402 is where the
migrant children live, 卫东区 410403 is their hukou county. All names and ID numbers are
synthetic (ID numbers built with a correct check digit, never a real person's)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tonghu.accounts.models import User
from tonghu.accounts.roles import Role
from tonghu.children.models import Child, ChildRecord
from tonghu.conftest import World, make_user
from tonghu.exchange.models import CertifyRequest, Direction, ExchangePackage, ExchangeRecord
from tonghu.exchange.services import exchange_keygen
from tonghu.rounds.models import Round

RESIDENCE = "410402"  # A: where the children live
HUKOU = "410403"  # B: their hukou county
OTHER = "410102"  # C: a third county


def synthetic_id(prefix17: str) -> str:
    """An 18-character ID number with a valid GB 11643 check character."""
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(digit) * weight for digit, weight in zip(prefix17, weights, strict=True))
    return prefix17 + "10X98765432"[total % 11]


ID_FIRST = synthetic_id("41040320150302001")
ID_THIRD = synthetic_id("41040320160911003")


@pytest.fixture(autouse=True)
def exchange_dirs(settings: Any, tmp_path: Path) -> Path:
    """Keys (field keys and exchange keys) and the registry in the test's own folder."""
    settings.KEY_DIR = tmp_path / "keys"
    settings.EXCHANGE_REGISTRY = tmp_path / "keys" / "exchange" / "registry.json"
    return tmp_path


def migrant(child_id: str, **values: Any) -> Child:
    """A migrant child of 新华区 whose hukou is in 卫东区."""
    defaults: dict[str, Any] = {
        "residence_division_id": "410402100201",
        "residence_code": "410402100201",
        "hukou_code": "410403001001",
        "hukou_province": "41",
        "is_migrant": True,
        "residence_since": dt.date(2023, 9, 1),
    }
    return Child.objects.create(child_id=child_id, **{**defaults, **values})


def hukou_child(child_id: str, **values: Any) -> Child:
    """A child in 卫东区's own ledger."""
    defaults: dict[str, Any] = {
        "residence_division_id": "410403001001",
        "residence_code": "410403001001",
        "hukou_code": "410403001001",
    }
    return Child.objects.create(child_id=child_id, **{**defaults, **values})


@dataclass
class Counties:
    world: World
    residence_staff: User  # 新华区 county civil affairs
    hukou_staff: User  # 卫东区 county civil affairs
    first: Child  # A's migrant, linked in B by ID number; B: 孤儿
    second: Child  # A's migrant without ID number, linked by name, birth and sex; B: 事实无人抚养
    third: Child  # A's migrant B does not know
    elsewhere: Child  # A's migrant from another county: never sent to B
    hukou_first: Child
    hukou_second: Child


@pytest.fixture
def counties(world: World) -> Counties:
    """Both counties' keys in the registry and their children, in one database (a deployment
    serving both counties, as a city-level one would)."""
    for county in (RESIDENCE, HUKOU, OTHER):
        exchange_keygen(county=county)
    round_ = Round.objects.create(county_id="410403000000", as_of=dt.date(2025, 7, 31))
    hukou_first = hukou_child(
        "41040300000001", name="测试甲", sex="男", birth_date=dt.date(2015, 3, 2),
        id_number=ID_FIRST, difficulty=["orphan"], in_difficulty=True,
        first_round=round_, last_round=round_,
    )  # fmt: skip
    ChildRecord.objects.create(
        round=round_, child=hukou_first, source="civil_status", record_key="MZ0001",
        record_date=dt.date(2021, 3, 1), file="civil_status.csv", row=2,
        values={"category": "孤儿", "starts_on": "2021-03-01", "id_number": ID_FIRST},
    )  # fmt: skip
    hukou_second = hukou_child(
        "41040300000002", name="测试乙", sex="女", birth_date=dt.date(2016, 5, 20),
        difficulty=["fuc", "dibao"], in_difficulty=True,
    )  # fmt: skip
    return Counties(
        world=world,
        residence_staff=world.users[Role.COUNTY_STAFF],
        hukou_staff=make_user("u_hukou_staff", Role.COUNTY_STAFF, "410403000000"),
        first=migrant(
            "41040200000001",
            name="测试甲",
            sex="男",
            birth_date=dt.date(2015, 3, 2),
            id_number=ID_FIRST,
        ),
        second=migrant("41040200000002", name="测试乙", sex="女", birth_date=dt.date(2016, 5, 20)),
        third=migrant(
            "41040200000003",
            name="测试丙",
            sex="男",
            birth_date=dt.date(2016, 9, 11),
            id_number=ID_THIRD,
        ),
        elsewhere=migrant(
            "41040200000004",
            name="测试丁",
            sex="女",
            birth_date=dt.date(2014, 1, 5),
            hukou_code="410102001001",
        ),
        hukou_first=hukou_first,
        hukou_second=hukou_second,
    )


def imported_counts() -> tuple[int, int, int, int]:
    """What an import adds: packages received, their rows, certification requests, children."""
    return (
        ExchangePackage.objects.filter(direction=Direction.IN).count(),
        ExchangeRecord.objects.count(),
        CertifyRequest.objects.count(),
        Child.objects.count(),
    )
