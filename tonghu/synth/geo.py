"""Places: the deployment county's towns and villages, and the hukou counties of migrants.

The deployment county is 平顶山市新华区 (410402). Its towns and villages are invented (the
demo county's, if shipped, come first so that both tables agree), with town numbers by the
statistics convention (001–099 街道, 100–199 镇, 200–399 乡) and village numbers 001–199 for
communities (居委会) and 201–399 for villages (村委会). Hukou counties are real: they are read
from the national county list shipped with tonghu.
"""

from __future__ import annotations

import csv
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent.parent
NATIONAL_FILE = PACKAGE_DIR / "divisions" / "data" / "gbt2260_counties.csv"
DEMO_COUNTY_FILE = PACKAGE_DIR / "divisions" / "data" / "demo_county.csv"

PROVINCE_CODE = "410000000000"
CITY_CODE = "410400000000"
COUNTY = "410402"
COUNTY_CODE = COUNTY + "000000"
# 中心城区 of 平顶山市 as marked in the generated table (policy.md §2 test cases).
CENTRAL_URBAN = frozenset({"410402", "410403", "410411"})
# Where migrant families come from: same city, same province, neighbouring provinces, far.
NEIGHBOUR_PROVINCES = frozenset({"13", "14", "34", "37", "42", "61"})
EXCLUDED_PROVINCES = frozenset({"71", "81", "82"})
HUKOU_GROUP_WEIGHTS = (
    ("same_city_central", 0.05),
    ("same_city", 0.25),
    ("same_province", 0.35),
    ("neighbour", 0.23),
    ("far", 0.12),
)
# Destinations of parents who work away (外出务工): big labour markets first.
WORK_PROVINCES = (("44", 5.0), ("33", 4.0), ("32", 3.5), ("31", 2.0), ("11", 2.0),
                  ("41", 3.0), ("35", 1.0), ("12", 0.8), ("42", 1.0), ("37", 0.8))  # fmt: skip
VILLAGES_PER_CHILDREN = 300
MIN_TOWNS = 4
MAX_TOWNS = 300
VILLAGES_PER_TOWN = 10

_NAME_FIRST = (
    "东西南北中新和平安永兴福康宁长青红金银白黄石柳杨李王张马高田河湖山林桥庄湾营寨集店岗坡"
)
_NAME_SECOND = "光明华阳丰乐顺德胜利民建兴旺泰和春秋园苑坊关园泉湖塘沟湾坪冲楼庄岭台庙寺桥店铺"


@dataclass(frozen=True)
class Division:
    code: str
    name: str
    level: str
    parent_code: str
    central_urban: bool = False

    def row(self) -> tuple[str, str, str, str, str]:
        return (
            self.code,
            self.name,
            self.level,
            self.parent_code,
            "1" if self.central_urban else "0",
        )


@dataclass(frozen=True)
class Village:
    code: str
    name: str
    town_code: str
    town_name: str

    @property
    def is_community(self) -> bool:
        return int(self.code[9:]) < 200

    @property
    def street_town(self) -> bool:
        return int(self.town_code[6:9]) < 100


class Geography:
    """Division table of one synthetic county and the national county list."""

    def __init__(self, *, children: int, rng: random.Random) -> None:
        self.national = _read_divisions(NATIONAL_FILE)
        self.towns, self.villages = _deployment_divisions(children, rng)
        self.counties = {d.code[:6]: d for d in self.national.values() if d.level == "county"}
        self.hukou_groups = self._hukou_groups()
        self.work_counties = self._work_counties()
        self.used_counties: set[str] = set()

    def county(self, code6: str) -> Division:
        return self.counties[code6]

    def city_of(self, county6: str) -> str:
        """The 12-digit city code that is the county's parent."""
        return self.counties[county6].parent_code

    def is_central(self, county6: str) -> bool:
        if county6[:4] == COUNTY[:4]:
            return county6 in CENTRAL_URBAN
        division = self.counties.get(county6)
        return bool(division and division.central_urban)

    def county_label(self, county6: str) -> str:
        """Province + city + county names, as an address starts."""
        county = self.counties[county6]
        city = self.national[county.parent_code]
        province = self.national[city.parent_code] if city.level == "city" else city
        parts = [province.name]
        if city.level == "city" and city.name not in {"市辖区", "县", "省直辖县级行政区划"}:
            parts.append(city.name)
        if county.name != city.name:
            parts.append(county.name)
        return "".join(parts)

    def divisions_rows(self) -> Iterator[tuple[str, str, str, str, str]]:
        """divisions.csv rows: the used counties' provinces, cities and counties, then the
        deployment county's towns and villages; all 平顶山市 counties are included."""
        counties = set(self.used_counties) | {
            code for code in self.counties if code[:4] == COUNTY[:4]
        }
        rows: dict[str, Division] = {}
        for code6 in counties:
            county = self.counties[code6]
            central = county.central_urban or code6 in CENTRAL_URBAN
            rows[county.code] = Division(
                county.code, county.name, "county", county.parent_code, central
            )
            parent = self.national[county.parent_code]
            rows[parent.code] = parent
            if parent.parent_code:
                rows[parent.parent_code] = self.national[parent.parent_code]
        for town in self.towns:
            rows[town.code] = town
        for village in self.villages:
            rows[village.code] = Division(village.code, village.name, "village", village.town_code)
        for code in sorted(rows):
            yield rows[code].row()

    def _hukou_groups(self) -> dict[str, list[str]]:
        groups: dict[str, list[str]] = {name: [] for name, _ in HUKOU_GROUP_WEIGHTS}
        for code6 in sorted(self.counties):
            if code6 == COUNTY or code6[:2] in EXCLUDED_PROVINCES:
                continue
            groups[_hukou_group(code6)].append(code6)
        return groups

    def _work_counties(self) -> dict[str, list[str]]:
        wanted = {province for province, _ in WORK_PROVINCES}
        found: dict[str, list[str]] = {province: [] for province in wanted}
        for code6 in sorted(self.counties):
            if code6[:2] in wanted:
                found[code6[:2]].append(code6)
        return found


def _hukou_group(code6: str) -> str:
    if code6[:4] == COUNTY[:4]:
        return "same_city_central" if code6 in CENTRAL_URBAN else "same_city"
    if code6[:2] == COUNTY[:2]:
        return "same_province"
    return "neighbour" if code6[:2] in NEIGHBOUR_PROVINCES else "far"


def _read_divisions(path: Path) -> dict[str, Division]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return {
            row["code"]: Division(
                row["code"],
                row["name"],
                row["level"],
                row["parent_code"],
                row["central_urban"] == "1",
            )
            for row in csv.DictReader(handle)
        }


def _deployment_divisions(
    children: int, rng: random.Random
) -> tuple[list[Division], list[Village]]:
    village_count = max(2 * MIN_TOWNS, math.ceil(children / VILLAGES_PER_CHILDREN))
    town_count = min(MAX_TOWNS, max(MIN_TOWNS, math.ceil(village_count / VILLAGES_PER_TOWN)))
    demo = _read_divisions(DEMO_COUNTY_FILE) if DEMO_COUNTY_FILE.exists() else {}
    names = _NameSource(rng, {d.name for d in demo.values()})
    towns = [d for d in demo.values() if d.level == "town" and d.code[:6] == COUNTY]
    next_number = {"街道": 1, "镇": 100, "乡": 200}
    for town in towns:
        kind = _town_kind(town.code)
        next_number[kind] = max(next_number[kind], int(town.code[6:9]) + 1)
    kinds = ("街道", "镇", "镇", "乡", "街道")
    while len(towns) < town_count:
        kind = kinds[len(towns) % len(kinds)]
        limit = {"街道": 99, "镇": 199, "乡": 399}[kind]
        if next_number[kind] > limit:
            kind = "乡" if next_number["乡"] <= 399 else "镇"
        code = f"{COUNTY}{next_number[kind]:03d}000"
        next_number[kind] += 1
        towns.append(Division(code, names.take() + kind, "town", COUNTY_CODE))
    towns.sort(key=lambda d: d.code)
    villages = _villages(towns, village_count, demo, names)
    return towns, villages


def _villages(
    towns: list[Division], count: int, demo: dict[str, Division], names: _NameSource
) -> list[Village]:
    town_names = {town.code: town.name for town in towns}
    per_town: dict[str, list[Village]] = {town.code: [] for town in towns}
    for division in demo.values():
        if division.level == "village" and division.parent_code in per_town:
            per_town[division.parent_code].append(
                Village(
                    division.code,
                    division.name,
                    division.parent_code,
                    town_names[division.parent_code],
                )
            )
    total = sum(len(v) for v in per_town.values())
    index = 0
    while total < count:
        town = towns[index % len(towns)]
        index += 1
        existing = per_town[town.code]
        community = _town_kind(town.code) == "街道" or (
            _town_kind(town.code) == "镇" and len(existing) % 4 == 0
        )
        used = {int(v.code[9:]) for v in existing}
        number = next(n for n in range(1 if community else 201, 400) if n not in used)
        suffix = "社区" if number < 200 else "村"
        code = f"{town.code[:9]}{number:03d}"
        existing.append(Village(code, names.take() + suffix, town.code, town.name))
        total += 1
    return sorted((v for vs in per_town.values() for v in vs), key=lambda v: v.code)


def _town_kind(code: str) -> str:
    number = int(code[6:9])
    if number < 100:
        return "街道"
    return "镇" if number < 200 else "乡"


class _NameSource:
    """Two-character place names, unique within the county while the pool lasts."""

    def __init__(self, rng: random.Random, taken: set[str]) -> None:
        pool = [a + b for a in _NAME_FIRST for b in _NAME_SECOND if a != b]
        rng.shuffle(pool)
        self._pool = [name for name in pool if name not in taken]
        self._rng = rng
        self._index = 0

    def take(self) -> str:
        if self._index < len(self._pool):
            name = self._pool[self._index]
            self._index += 1
            return name
        return self._rng.choice(self._pool) + self._rng.choice(_NAME_SECOND)
