"""The ledger list at a million children on PostgreSQL: p50/p95 of the common filters.

    .venv/bin/python bench/list_bench.py [--children 1000000] [--repeat 20]
        [--server postgres://postgres@127.0.0.1:5432/postgres]

Creates (and afterwards drops) the database ``tonghu_list_bench`` on the server, migrates it,
loads the demo county's divisions and COPYs synthetic children into the ledger (names and
numbers are made up). Then, as a county clerk and as a village child director, it times
``children_page`` (the count, one page of 50 rows and the audit entry, exactly what the list
page does) for each filter, and prints p50/p95 beside the time of a bare ``SELECT count(*)``
over the whole table in the same run. Target: p95 under 300 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

DB_NAME = "tonghu_list_bench"
ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    args = parser.parse_args()
    import psycopg  # noqa: PLC0415

    with psycopg.connect(args.server, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DB_NAME}")
        admin.execute(f"CREATE DATABASE {DB_NAME}")
    os.environ["DATABASE_URL"] = args.server.rsplit("/", 1)[0] + "/" + DB_NAME
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tonghu.config.settings")
    sys.path.insert(0, str(ROOT))
    try:
        run(args.children, args.repeat)
    finally:
        from django.db import connections  # noqa: PLC0415

        connections.close_all()
        if not args.keep:
            with psycopg.connect(args.server, autocommit=True) as admin:
                admin.execute(f"DROP DATABASE IF EXISTS {DB_NAME}")


def run(children: int, repeat: int) -> None:
    import django  # noqa: PLC0415

    django.setup()
    from django.core.management import call_command  # noqa: PLC0415

    from tonghu.divisions.services import divisions_load  # noqa: PLC0415

    call_command("migrate", verbosity=0)
    for name in ("gbt2260_counties.csv", "demo_county.csv"):
        divisions_load(path=ROOT / "tonghu/divisions/data" / name)
    started = time.perf_counter()
    fill(children)
    print(f"loaded {children:,} children in {time.perf_counter() - started:.1f} s")
    report(measure(repeat))


def fill(children: int) -> None:
    from django.db import connection  # noqa: PLC0415

    villages = _villages()
    rng = np.random.default_rng(7)
    start = dt.date(2008, 1, 1).toordinal()
    births = rng.integers(0, 18 * 365, children) + start
    homes = rng.integers(0, len(villages), children)
    provinces = rng.choice(["41", "41", "41", "42", "34", "51", "13"], children)
    migrant = rng.random(children) < 0.3
    left = ~migrant & (rng.random(children) < 0.08)
    key_care = rng.random(children) < 0.05
    difficulty = rng.random(children) < 0.04
    stages = rng.choice(["", "学前", "小学", "初中", "高中", "中职"], children)
    surnames = np.array(list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"))
    given = np.array(["子涵", "浩宇", "欣怡", "梓萱", "一诺", "宇轩", "雨桐", "俊熙"])
    columns = (
        "child_id, name, sex, birth_date, residence_division_id, id_number, id_number_index, "
        "hukou_code, "
        "hukou_province, residence_code, is_resident, is_migrant, is_left_behind, is_key_care, "
        "in_difficulty, key_care, difficulty, dropout_risk, stage, flags, services, reasons, "
        "present, version"
    )
    with (
        connection.cursor() as cursor,
        cursor.connection.cursor().copy(f"COPY children_child ({columns}) FROM STDIN") as copy,
    ):
        buffer = io.StringIO()
        for i in range(children):
            home = villages[homes[i]]
            row = (
                f"410402{i:08d}", f"{surnames[i % 20]}{given[(i // 20) % 8]}",
                "男" if i % 2 else "女", dt.date.fromordinal(int(births[i])).isoformat(), home,
                "", "", f"{provinces[i]}0000000000", provinces[i], home,
                "t", "t" if migrant[i] else "f", "t" if left[i] else "f",
                "t" if key_care[i] else "f", "t" if difficulty[i] else "f",
                '["hardship"]' if key_care[i] else "[]", '["dibao"]' if difficulty[i] else "[]",
                "", stages[i], "[]", "[]", "", "t", "1",
            )  # fmt: skip
            buffer.write("\t".join(str(value) for value in row) + "\n")
            if i % 50_000 == 49_999:
                copy.write(buffer.getvalue())
                buffer = io.StringIO()
        copy.write(buffer.getvalue())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # as autovacuum would have by the time anyone lists


TOWNS, VILLAGES_PER_TOWN = 20, 25  # 500 villages: a large county's size


def _villages() -> list[str]:
    """A county of realistic size (the demo county has only nine villages)."""
    from tonghu.divisions.models import Division  # noqa: PLC0415

    divisions = []
    for town_number in range(101, 101 + TOWNS):
        town = f"410402{town_number:03d}000"
        divisions.append(
            Division(code=town, name=f"镇{town_number}", level="town", parent_id="410402000000")
        )
        divisions += [
            Division(code=f"{town[:9]}{v:03d}", name=f"村{v}", level="village", parent_id=town)
            for v in range(201, 201 + VILLAGES_PER_TOWN)
        ]
    Division.objects.bulk_create(divisions, ignore_conflicts=True)
    return [d.code for d in divisions if d.level == "village"]


FILTERS = {
    "全部（第1页）": {},
    "姓名": {"name": "王子"},
    "流动儿童": {"category": "migrant"},
    "留守儿童": {"category": "left_behind"},
    "重点关爱·家庭生活困难": {"key_care": "hardship"},
    "乡镇": {"division": "410402101000"},
    "村": {"division": "410402101201"},
    "年龄段 6-11": {"age_band": (6, 11)},
    "学段 初中": {"stage": "初中"},
    "户籍省份 42": {"hukou_province": "42"},
    "流动+乡镇+年龄段": {"category": "migrant", "division": "410402101000", "age_band": (6, 11)},
}


def measure(repeat: int) -> list[tuple[str, str, float, float]]:
    from django.db import connection  # noqa: PLC0415

    from tonghu.accounts.models import User  # noqa: PLC0415
    from tonghu.accounts.roles import Role  # noqa: PLC0415
    from tonghu.children.selectors import ChildFilter  # noqa: PLC0415
    from tonghu.children.services import children_page  # noqa: PLC0415

    clerk = User.objects.create(
        username="clerk", role=Role.COUNTY_STAFF, division_id="410402000000"
    )
    director = User.objects.create(
        username="director", role=Role.CHILD_DIRECTOR, division_id="410402101201"
    )
    results = []
    baseline = []
    for _ in range(repeat):
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM children_child")
        baseline.append(time.perf_counter() - started)
    results.append(("SELECT count(*)", "—", *_percentiles(baseline)))
    for user, who in ((clerk, "区县民政"), (director, "儿童主任")):
        for label, where in FILTERS.items():
            times = []
            for _ in range(repeat):
                started = time.perf_counter()
                page = children_page(user=user, where=ChildFilter(**where), page_number=1)  # type: ignore[arg-type]
                _ = page.paginator.count, list(page.object_list)
                times.append(time.perf_counter() - started)
            results.append((label, who, *_percentiles(times)))
    return results


def _percentiles(seconds: list[float]) -> tuple[float, float]:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p95 * 1000


def report(results: list[tuple[str, str, float, float]]) -> None:
    print(f"{'filter':24}{'user':10}{'p50 ms':>10}{'p95 ms':>10}{'p95/count':>11}")
    count_p95 = results[0][3]
    for label, who, p50, p95 in results:
        print(f"{label:24}{who:10}{p50:>10.1f}{p95:>10.1f}{p95 / count_p95:>11.1f}")


if __name__ == "__main__":
    main()
