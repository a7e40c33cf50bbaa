"""District service lists: refused when they drop or narrow a base item, versioned by date,
and the one in force at a round's reference date is the one the round uses."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from tonghu.divisions.services import divisions_load
from tonghu.services.lists import profile_in_force, service_list_load

EXTRA = {
    "code": "X01",
    "name": "暑期托管服务",
    "content": "暑假期间在社区儿童之家免费托管。",
    "responsible": "教体局",
    "departments": ["education"],
    "who": {"everyone": True},
}


def _list(tmp_path: Path, items: list[dict[str, Any]], name: str = "xinhua.yaml") -> Path:
    path = tmp_path / name
    data = {"extends": "default", "key": "xinhua", "name": "新华区", "services": {"items": items}}
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def county(db: None, synthetic_county: Path) -> Path:
    divisions_load(path=synthetic_county / "divisions.csv")
    return synthetic_county


def test_a_list_that_narrows_or_drops_is_refused_naming_the_items(
    county: Path, tmp_path: Path
) -> None:
    narrower = _list(tmp_path, [{"code": "S02", "who": {"age": {"min": 4, "max": 6}}}])
    with pytest.raises(ValidationError, match="S02"):
        service_list_load(county_code="410402", path=narrower, effective_from=dt.date(2025, 1, 1))
    data = yaml.safe_load(narrower.read_text(encoding="utf-8"))
    data.pop("extends")
    base = yaml.safe_load(
        (Path(__file__).parents[2] / "policy/profiles/default.yaml").read_text(encoding="utf-8")
    )
    base["services"]["items"] = [i for i in base["services"]["items"] if i["code"] != "S24"]
    dropped = tmp_path / "dropped.yaml"
    dropped.write_text(yaml.safe_dump(base, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ValidationError, match="S24"):
        service_list_load(county_code="410402", path=dropped, effective_from=dt.date(2025, 1, 1))


def test_the_list_in_force_at_a_date_is_the_latest_before_it(county: Path, tmp_path: Path) -> None:
    service_list_load(
        county_code="410402", path=_list(tmp_path, [EXTRA]), effective_from=dt.date(2025, 7, 1)
    )
    assert (
        len(profile_in_force(county_code="410402", day=dt.date(2025, 6, 30)).services.items) == 25
    )
    later = profile_in_force(county_code="410402", day=dt.date(2025, 7, 1))
    assert later.service("X01").name == "暑期托管服务"


def test_a_round_uses_the_list_in_force_at_its_reference_date(
    county: Path, tmp_path: Path, settings: Any
) -> None:
    settings.ROUND_STORE_DIR = tmp_path / "rounds"
    service_list_load(
        county_code="410402", path=_list(tmp_path, [EXTRA]), effective_from=dt.date(2025, 1, 1)
    )
    out = tmp_path / "out"
    call_command("round_run", str(county / "feeds"), as_of="2025-06-30", export=str(out))
    with (out / "services.csv").open(encoding="utf-8") as stream:
        codes = {row["service_code"] for row in csv.DictReader(stream)}
    assert "X01" in codes
    page = Client().get(reverse("services:public")).content.decode()
    assert "暑期托管服务" in page
