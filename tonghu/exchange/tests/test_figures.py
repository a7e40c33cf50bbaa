"""A county reports its round figures to its city's own instance (kind ``figures``): the
city's dashboard then adds them up like its own; refusals import nothing.

One database stands for both instances: the county's round is made, sent, and removed before
the city imports it, so that what the city shows comes from the package alone."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from tonghu import clock
from tonghu.accounts.models import User
from tonghu.accounts.roles import Role
from tonghu.exchange import keys as key_store
from tonghu.exchange.figures import TABLES, figures_rows
from tonghu.exchange.models import Direction, ExchangePackage, Kind, ReceivedRound
from tonghu.exchange.packages import PackageError, build, new_header
from tonghu.exchange.services import exchange_keygen, figures_export, package_import
from tonghu.exchange.tests.conftest import HUKOU, OTHER, RESIDENCE, Counties
from tonghu.rounds.models import Round, RoundStatus
from tonghu.stats.models import DailyFigure, LiveFigure, Measure, RoundFigure
from tonghu.stats.selectors import jurisdiction, round_totals

CITY = "410400"  # 平顶山市: 新华区 410402 and 卫东区 410403 lie in it
BASE_DATE = dt.date(2025, 12, 31)


def county_round(county: str, *, migrants: int) -> Round:
    """A completed round of the county with its figures at the three levels."""
    round_ = Round.objects.create(
        county_id=f"{county}000000",
        as_of=BASE_DATE,
        status=RoundStatus.DONE,
        summary={"children": migrants},
        completed_at=clock.now(),
    )
    town, village = f"{county}001000", f"{county}001001"
    for level, code in (("county", f"{county}000000"), ("town", town), ("village", village)):
        RoundFigure.objects.create(
            round=round_, level=level, division_code=code, group="migrant",
            dimension="total", category="", n=migrants,
        )  # fmt: skip
    LiveFigure.objects.create(
        division_code=village, measure=Measure.VISIT_HOME, month=dt.date(2025, 12, 1), n=7
    )
    DailyFigure.objects.create(
        county_code=county, division_code=village, measure=Measure.REFERRAL_OVERDUE, n=2,
        computed_on=dt.date(2026, 1, 2),
    )  # fmt: skip
    return round_


def city_totals(user: User) -> dict[tuple[str, str, str], int]:
    return round_totals(jurisdiction(user=user))


def forget(round_: Round) -> None:
    """What the city's own instance would not hold: the county's round and counters."""
    county = round_.county_id[:6]
    round_.delete()
    LiveFigure.objects.filter(division_code__startswith=county).delete()
    DailyFigure.objects.filter(county_code=county).delete()


@pytest.fixture
def city_keys(counties: Counties) -> User:
    exchange_keygen(county=CITY)
    return counties.world.users[Role.CITY_STAFF]


def test_the_citys_dashboard_adds_up_the_counties_reports(city_keys: User, tmp_path: Path) -> None:
    city_staff = city_keys
    for county, migrants in ((RESIDENCE, 120), (HUKOU, 30)):
        round_ = county_round(county, migrants=migrants)
        sent = figures_export(county=county, recipient=CITY, out_dir=tmp_path)
        assert sent.package.child_ids == []
        assert sent.package.summary == {"rounds": 1, "round_figures": 3}
        forget(round_)
        imported = package_import(path=sent.path, acting_user=city_staff)
        assert f"{county} 报送 1 个监测轮次（基准日 2025-12-31）" in imported.lines[1]

    assert city_totals(city_staff)[("migrant", "total", "")] == 150
    received = Round.objects.get(county_id=f"{RESIDENCE}000000", as_of=BASE_DATE)
    assert received.status == RoundStatus.DONE
    assert ReceivedRound.objects.filter(round=received).exists()
    assert LiveFigure.objects.get(division_code=f"{RESIDENCE}001001").n == 7
    assert DailyFigure.objects.filter(county_code=HUKOU).count() == 1
    client = Client()
    client.force_login(city_staff)
    page = client.get(reverse("stats:dashboard"))
    assert page.status_code == 200
    assert "新华区" in page.content.decode()


def test_a_later_report_replaces_the_earlier_one(city_keys: User, tmp_path: Path) -> None:
    round_ = county_round(RESIDENCE, migrants=120)
    first = figures_export(county=RESIDENCE, recipient=CITY, out_dir=tmp_path / "1")
    RoundFigure.objects.filter(round=round_).update(n=125)
    second = figures_export(county=RESIDENCE, recipient=CITY, out_dir=tmp_path / "2")
    forget(round_)

    package_import(path=first.path, acting_user=city_keys)
    package_import(path=second.path, acting_user=city_keys)

    assert city_totals(city_keys)[("migrant", "total", "")] == 125
    assert RoundFigure.objects.filter(division_code__startswith=RESIDENCE).count() == 3
    assert LiveFigure.objects.filter(division_code__startswith=RESIDENCE).count() == 1


def test_figures_go_only_to_the_countys_own_city_or_province(
    city_keys: User, tmp_path: Path
) -> None:
    county_round(RESIDENCE, migrants=120)
    with pytest.raises(PackageError, match=r"只能报送本县所属的市（410400）或省（410000）"):
        figures_export(county=RESIDENCE, recipient=HUKOU, out_dir=tmp_path)
    Round.objects.all().update(status=RoundStatus.OPEN)
    with pytest.raises(PackageError, match="还没有完成的监测摸排轮次"):
        figures_export(county=RESIDENCE, recipient=CITY, out_dir=tmp_path)


def test_a_round_run_here_is_never_overwritten_by_a_report(city_keys: User, tmp_path: Path) -> None:
    """A city instance that also runs the county's rounds itself refuses the report."""
    county_round(RESIDENCE, migrants=120)
    sent = figures_export(county=RESIDENCE, recipient=CITY, out_dir=tmp_path)
    with pytest.raises(PackageError, match="本地监测轮次，不能用报送的统计覆盖"):
        package_import(path=sent.path, acting_user=city_keys)
    assert not ExchangePackage.objects.filter(direction=Direction.IN).exists()


def test_a_report_from_a_county_outside_the_city_is_refused(
    city_keys: User, tmp_path: Path
) -> None:
    """中原区 (郑州市) signs a figures package to 平顶山市: refused, nothing imported."""
    header = new_header(
        kind=Kind.FIGURES, sender=OTHER, recipient=CITY, sequence=1, created_at=clock.now()
    )
    row = {
        "table": "round", "as_of": "2025-12-31", "summary": {}, "completed_at": "",
    }  # fmt: skip
    data = build(
        header=header,
        rows=[row],
        sender=key_store.keys_load(OTHER),
        recipient=key_store.registry_load()[CITY],
    )
    path = tmp_path / "x.tonghu"
    path.write_bytes(data)
    with pytest.raises(PackageError, match="不在本级（410400）辖区内"):
        package_import(path=path, acting_user=city_keys)
    assert not Round.objects.filter(county_id=f"{OTHER}000000").exists()


def test_a_county_cannot_import_figures_nor_a_city_other_packages(
    counties: Counties, city_keys: User, tmp_path: Path
) -> None:
    county_round(RESIDENCE, migrants=120)
    header = new_header(
        kind=Kind.FIGURES, sender=RESIDENCE, recipient=HUKOU, sequence=1, created_at=clock.now()
    )
    data = build(
        header=header,
        rows=[],
        sender=key_store.keys_load(RESIDENCE),
        recipient=key_store.registry_load()[HUKOU],
    )
    path = tmp_path / "f.tonghu"
    path.write_bytes(data)
    with pytest.raises(PackageError, match="监测统计报送只能由市、省导入"):
        package_import(path=path, acting_user=counties.hukou_staff)


def test_the_figures_carry_no_childs_data(counties: Counties, city_keys: User) -> None:
    county_round(RESIDENCE, migrants=120)
    rows, _ = figures_rows(RESIDENCE)
    keys = {key for row in rows for key in row}
    assert keys <= {"table", *(key for table in TABLES.values() for key in table)}
    text = repr(rows)
    for child in (counties.first, counties.second, counties.third):
        assert child.child_id not in text
        assert child.name not in text


def test_the_commands_send_and_receive_figures(city_keys: User, tmp_path: Path) -> None:
    round_ = county_round(RESIDENCE, migrants=120)
    out = io.StringIO()
    call_command(
        "exchange_figures", recipient=CITY, out=str(tmp_path), county=RESIDENCE, stdout=out
    )
    assert "已写出报送 410400 的监测统计（第1号，1 个轮次）" in out.getvalue()
    forget(round_)
    out = io.StringIO()
    call_command("exchange_import", *map(str, tmp_path.glob("*.tonghu")), county=CITY, stdout=out)
    assert "410402 报送 1 个监测轮次" in out.getvalue()
    assert city_totals(city_keys)[("migrant", "total", "")] == 120
    with pytest.raises(CommandError, match="只能报送本县所属的市"):
        call_command("exchange_figures", recipient=HUKOU, out=str(tmp_path), county=RESIDENCE)
