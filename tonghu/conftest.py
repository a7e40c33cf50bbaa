"""Shared fixtures: a small jurisdiction tree with one user per role and children placed
so that each role has a nearest child outside its scope (sibling village, town, county, city)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tonghu import clock as tonghu_clock
from tonghu.accounts.models import User
from tonghu.accounts.roles import Department, Role
from tonghu.children.models import Child
from tonghu.divisions.models import Division
from tonghu.feeds.models import FeedImport
from tonghu.feeds.services import feed_import
from tonghu.rounds.models import Round
from tonghu.testing.browser import allow_async_unsafe, page  # noqa: F401  (shared fixtures)

TREE = (
    # code, name, level, parent
    ("410000000000", "河南省", "province", None),
    ("410100000000", "郑州市", "city", "410000000000"),
    ("410102000000", "中原区", "county", "410100000000"),
    ("410102001000", "林山寨街道", "town", "410102000000"),
    ("410102001001", "测试社区", "village", "410102001000"),
    ("410400000000", "平顶山市", "city", "410000000000"),
    ("410402000000", "新华区", "county", "410400000000"),
    ("410402100000", "焦店镇", "town", "410402000000"),
    ("410402100201", "东湾村", "village", "410402100000"),
    ("410402100202", "西湾村", "village", "410402100000"),
    ("410402200000", "滍阳乡", "town", "410402000000"),
    ("410402200201", "北渡村", "village", "410402200000"),
    ("410403000000", "卫东区", "county", "410400000000"),
    ("410403001000", "东安路街道", "town", "410403000000"),
    ("410403001001", "东安社区", "village", "410403001000"),
)

# Where each role's test user sits, and the sibling division just outside its scope.
ROLE_PLACES: dict[Role, tuple[str, str]] = {
    Role.CHILD_DIRECTOR: ("410402100201", "410402100202"),
    Role.SUPERVISOR: ("410402100000", "410402200000"),
    Role.COUNTY_STAFF: ("410402000000", "410403000000"),
    Role.CITY_STAFF: ("410400000000", "410100000000"),
    Role.DEPARTMENT_OFFICER: ("410402000000", "410403000000"),
    Role.REPORTER: ("410402100201", "410402100202"),
    Role.SYSADMIN: ("410402000000", "410403000000"),
    Role.AUDITOR: ("410402000000", "410403000000"),
}
# A child living in the first village under each division above.
CHILD_HOMES = {
    "410402100201": "410402100201",
    "410402100202": "410402100202",
    "410402100000": "410402100201",
    "410402200000": "410402200201",
    "410402000000": "410402100201",
    "410403000000": "410403001001",
    "410400000000": "410402100201",
    "410100000000": "410102001001",
}


EDU_CSV = "学籍号,姓名,出生日期,学籍状态\nG1,测试学生,2015-03-02,在读\nG2,,2015-03-02,在读\n"


def edu_upload(name: str = "edu_migrant.csv", content: str = EDU_CSV) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content.encode("utf-8"), content_type="text/csv")


@dataclass
class World:
    users: dict[Role, User] = field(default_factory=dict)
    children_by_home: dict[str, Child] = field(default_factory=dict)
    rounds: dict[str, Round] = field(default_factory=dict)  # by county code
    imports: dict[str, FeedImport] = field(default_factory=dict)

    def round_for(self, role: Role, *, inside: bool) -> Round:
        """The round of the role's county (inside) or of the neighbouring county."""
        return self.rounds["410402000000" if inside else "410403000000"]

    def import_for(self, role: Role, *, inside: bool) -> FeedImport:
        """An education feed imported into ``round_for`` (made on first use: it writes files)."""
        round_ = self.round_for(role, inside=inside)
        county = round_.county_id
        if county not in self.imports:
            uploader = make_user(f"u_upload_{county}", Role.COUNTY_STAFF, county)
            outcome = feed_import(
                round_=round_, upload=edu_upload(), source_name="", acting_user=uploader
            )
            self.imports[county] = outcome.feed_import
        return self.imports[county]

    def child_in(self, role: Role) -> Child:
        return self.children_by_home[CHILD_HOMES[ROLE_PLACES[role][0]]]

    def child_out(self, role: Role) -> Child:
        return self.children_by_home[CHILD_HOMES[ROLE_PLACES[role][1]]]

    def division_in(self, role: Role) -> str:
        return ROLE_PLACES[role][0]

    def division_out(self, role: Role) -> str:
        return ROLE_PLACES[role][1]


def make_tree() -> None:
    Division.objects.bulk_create(
        Division(code=code, name=name, level=level, parent_id=parent)
        for code, name, level, parent in TREE
    )


def make_user(username: str, role: Role, division_code: str, **extra: str) -> User:
    """A user without a usable password (tests log in with force_login; hashing is slow)."""
    user = User(username=username, role=role, division_id=division_code, **extra)
    user.set_unusable_password()
    user.full_clean()
    user.save()
    return user


@pytest.fixture
def world(db: None) -> World:
    make_tree()
    built = World()
    for role, (home, _) in ROLE_PLACES.items():
        extra = {"department": Department.EDUCATION} if role == Role.DEPARTMENT_OFFICER else {}
        built.users[role] = make_user(f"u_{role.value}", role, home, **extra)
    for number, village in enumerate(sorted(set(CHILD_HOMES.values())), start=1):
        built.children_by_home[village] = Child.objects.create(
            child_id=f"C{number:06d}",
            name=f"测试儿童{number}",
            sex="女" if number % 2 else "男",
            birth_date=dt.date(2015, 1, number),
            residence_division_id=village,
        )
    for county in ("410402000000", "410403000000"):
        built.rounds[county] = Round.objects.create(county_id=county, as_of=dt.date(2025, 6, 30))
    return built


class Clock:
    """The test's hand on tonghu.clock: ``clock.set(...)``, ``clock.advance(hours=1)``."""

    def __init__(self, at: dt.datetime) -> None:
        self.set(at)

    def set(self, at: dt.datetime) -> dt.datetime:
        tonghu_clock.set_now(at)
        return at

    def advance(self, **delta: float) -> dt.datetime:
        return self.set(tonghu_clock.now() + dt.timedelta(**delta))

    @property
    def now(self) -> dt.datetime:
        return tonghu_clock.now()


@pytest.fixture
def clock() -> Iterator[Clock]:
    """A stopped clock at 2026-11-23 09:00 Beijing time (a Monday), let go after the test."""
    yield Clock(dt.datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai")))
    tonghu_clock.set_now(None)


@pytest.fixture(autouse=True)
def _feed_store(settings: Any, tmp_path: Path) -> None:
    """Every test keeps its feed files and exchange packages in its own temporary folder."""
    settings.FEED_STORE_DIR = tmp_path / "feeds"
    settings.EXCHANGE_DIR = tmp_path / "exchange"


@pytest.fixture(scope="session")
def synthetic_county(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small county written by ``tonghu synth`` (feeds, divisions.csv, truth), once."""
    from tonghu.synth import generate  # noqa: PLC0415  (only the tests that use it pay for it)

    folder = tmp_path_factory.mktemp("synth-county")
    generate(out_dir=folder, children=300, seed=3, as_of=dt.date(2025, 6, 30))
    return folder


@pytest.fixture
def county_round(
    transactional_db: None, synthetic_county: Path, settings: Any, tmp_path: Path
) -> Path:
    """The synthetic county's divisions and one whole round (2025-06-30) in a database that
    a live server sees too; returns the round's export folder."""
    from django.core.management import call_command  # noqa: PLC0415

    from tonghu.divisions.services import divisions_load  # noqa: PLC0415

    settings.ROUND_STORE_DIR = tmp_path / "rounds"
    divisions_load(path=synthetic_county / "divisions.csv")
    out = tmp_path / "out"
    call_command("round_run", str(synthetic_county / "feeds"), as_of="2025-06-30", export=str(out))
    return out
