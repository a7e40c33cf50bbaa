"""The statistics dashboard of a county with a million children: summary tables vs counting.

    .venv/bin/python bench/stats_bench.py [--children 1000000 ...] [--repeat 7]
        [--database-url postgres://postgres@127.0.0.1:5432/test] [--keep] [--city-counties 1]

Builds a synthetic county (410402 with 20 towns x 20 villages under the real province, city
and counties of the division file), a county and a city civil-affairs user and one finished
round. For each size N (ascending) DuckDB makes N classified children with SQL alone (the
``classified``, ``classify_records``, ``classify_parents`` and ``eligible_services`` tables
``summarise`` reads; every value is a hash of the child's number, so the same N always gives
the same county and a larger N only adds children); ``summarise`` turns them into figures,
written to Parquet and loaded with ``round_figures_load`` (the once-per-round cost). The same
children also go into the ledger (Child) so that the naive alternative, counting them live
with ORM aggregates, can be timed on the same data.

Then every measurement runs in turn, round after round (the first round is reported as cold,
the median of the others as warm), so a noisy machine slows all of them alike: ``dashboard``
for the county, a town and a village; ``standard_tables`` for the county; the pages
/stats/ and /stats/tables/ through the test client as county staff, and /stats/ as city
staff (protected figures); and the naive alternative: four ORM aggregates over the
jurisdiction's children (group totals, per area, per age band, per sex and stage). They
stand for only a part of the dashboard, so naive / summary understates the gap. Every view
is imported before the first round, so cold is the first render, not Python's imports.

``--city-counties K`` then copies the round's figures into K - 1 more counties of the city
(up to 12 in all; figures only) and times the city's pages again: their cost follows the
figure rows under the city, not its children.

Without ``--database-url`` the database is a SQLite file in a temporary folder. With it,
the URL is used only to create (and afterwards drop) the database ``tonghu_stats_bench`` on
the same PostgreSQL server, which is ANALYZEd after loading as autovacuum would have done.

Target: the county dashboard page (GET /stats/ as county staff, median of the warm runs)
renders in under 1000 ms at 1,000,000 children.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pyarrow as pa

    from tonghu.accounts.models import User
    from tonghu.pipeline.duck import Connection
    from tonghu.rounds.models import Round

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "tonghu_stats_bench"
COUNTY = "410402"
CITY = "4104"
# The city's other counties, for --city-counties.
OTHER_COUNTIES: tuple[str, ...] = (
    "410403", "410404", "410411", "410421", "410422", "410423", "410425", "410481", "410482",
)  # fmt: skip
TOWNS, VILLAGES_PER_TOWN = 20, 20
TOWN = "410402101000"  # the town and village measured below the county
VILLAGE = "410402101201"
AS_OF = dt.date(2025, 6, 30)
TARGET_MS = 1000.0
TARGET_CHILDREN = 1_000_000
INSERT_BATCH = 50_000


@dataclass
class SizeResult:
    children: int
    generate_s: float = 0.0
    summarise_s: float = 0.0
    write_s: float = 0.0
    load_s: float = 0.0
    figure_rows: int = 0
    ledger_s: float = 0.0
    cold: dict[str, float] = field(default_factory=dict)  # ms
    warm: dict[str, float] = field(default_factory=dict)  # median ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, nargs="+", default=[TARGET_CHILDREN])
    parser.add_argument("--repeat", type=int, default=7, help="warm runs per measurement (>=5)")
    parser.add_argument("--database-url", default="", help="a PostgreSQL server (default SQLite)")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL bench database")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--city-counties",
        type=int,
        default=1,
        help="afterwards, time the city pages with this many counties having such a round",
    )
    args = parser.parse_args()
    if args.repeat < 5:
        parser.error("--repeat must be at least 5")
    if not 1 <= args.city_counties <= len(OTHER_COUNTIES) + 1:
        parser.error(f"--city-counties must be from 1 to {len(OTHER_COUNTIES) + 1}")
    sizes = sorted(set(args.children))
    with tempfile.TemporaryDirectory(prefix="stats-bench-") as work:
        os.environ["TONGHU_VAR_DIR"] = work  # secret key, static root and SQLite file
        os.environ["TONGHU_ALLOWED_HOSTS"] = "testserver"
        os.environ["DJANGO_SETTINGS_MODULE"] = "tonghu.config.settings"
        os.environ.pop("DATABASE_URL", None)
        if args.database_url:
            _server(args.database_url, f"DROP DATABASE IF EXISTS {DB_NAME}")
            _server(args.database_url, f"CREATE DATABASE {DB_NAME}")
            os.environ["DATABASE_URL"] = args.database_url.rsplit("/", 1)[0] + "/" + DB_NAME
        sys.path.insert(0, str(ROOT))
        try:
            run(sizes, args.repeat, args.seed, Path(work), args.city_counties)
        finally:
            from django.db import connections  # noqa: PLC0415

            connections.close_all()
            if args.database_url and not args.keep:
                _server(args.database_url, f"DROP DATABASE IF EXISTS {DB_NAME}")


def _server(url: str, statement: str) -> None:
    import psycopg  # noqa: PLC0415

    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(statement)


def run(sizes: list[int], repeat: int, seed: int, work: Path, city_counties: int) -> None:
    import django  # noqa: PLC0415

    django.setup()
    from django.core.management import call_command  # noqa: PLC0415
    from django.urls import get_resolver  # noqa: PLC0415

    from tonghu.pipeline.duck import connect  # noqa: PLC0415

    call_command("migrate", verbosity=0)
    get_resolver().url_patterns  # noqa: B018  # imports every view now, not in a request
    county_user, city_user, round_ = _county()
    con = connect(memory_limit="4GB", temp_dir=work / "duckdb")
    results: list[SizeResult] = []
    loaded = 0
    for size in sizes:
        result = SizeResult(children=size)
        started = time.perf_counter()
        _generate(con, size, seed)
        result.generate_s = time.perf_counter() - started
        _summarise(con, round_, work, result)
        started = time.perf_counter()
        _ledger(con, round_, start=loaded, stop=size, work=work)
        loaded = size
        result.ledger_s = time.perf_counter() - started
        _measure(county_user, city_user, repeat, result)
        report(result, repeat)
        results.append(result)
    con.close()
    if len(results) > 1:
        growth(results)
    if city_counties > 1:
        _city(city_user, round_, city_counties, repeat)
    print(f"peak memory (max RSS of this process): {_max_rss_mb():,.0f} MB")


# --- the county -------------------------------------------------------------------------


def _county() -> tuple[User, User, Round]:
    from tonghu.accounts.roles import Role  # noqa: PLC0415
    from tonghu.divisions.models import Division  # noqa: PLC0415
    from tonghu.divisions.services import divisions_load  # noqa: PLC0415
    from tonghu.rounds.models import Round, RoundStatus  # noqa: PLC0415

    divisions_load(path=ROOT / "tonghu/divisions/data/gbt2260_counties.csv")
    county = f"{COUNTY}000000"
    rows = []
    for town_number in range(101, 101 + TOWNS):
        town = f"{COUNTY}{town_number:03d}000"
        rows.append(Division(code=town, name=f"第{town_number}镇", level="town", parent_id=county))
        rows += [
            Division(code=f"{town[:9]}{v:03d}", name=f"第{v}村", level="village", parent_id=town)
            for v in range(201, 201 + VILLAGES_PER_TOWN)
        ]
    Division.objects.bulk_create(rows)
    county_user = _user("county_staff", Role.COUNTY_STAFF, county)
    city_user = _user("city_staff", Role.CITY_STAFF, f"{CITY}00000000")
    round_ = Round.objects.create(
        county_id=county,
        as_of=AS_OF,
        status=RoundStatus.DONE,
        profile="default",
        completed_at=dt.datetime.now(tz=dt.UTC),
    )
    return county_user, city_user, round_


def _user(username: str, role: str, division: str) -> User:
    from tonghu.accounts.models import User  # noqa: PLC0415

    user = User(username=username, role=role, division_id=division)
    user.set_unusable_password()
    user.full_clean()
    user.save()
    return user


def _division_table() -> pa.Table:
    import pyarrow as pa  # noqa: PLC0415

    from tonghu.divisions.models import Division  # noqa: PLC0415

    rows = Division.objects.values_list("code", "name", "level", "parent_id", "central_urban")
    columns = list(zip(*rows, strict=True))
    return pa.table(
        {
            "code": pa.array(columns[0], pa.string()),
            "name": pa.array(columns[1], pa.string()),
            "level": pa.array(columns[2], pa.string()),
            "parent_code": pa.array(columns[3], pa.string()),
            "central_urban": pa.array(["1" if c else "0" for c in columns[4]], pa.string()),
        }
    )


# --- the round: synthetic classified children, summarised --------------------------------

# u(i, key): a uniform number in [0, 1) fixed by the child's number, the key and the seed.
_GENERATE = """
CREATE OR REPLACE MACRO u(i, k) AS (hash(i, k, {seed}) % 1000000)::DOUBLE / 1000000.0;
CREATE OR REPLACE MACRO pick(x, items) AS
    items[1 + least(floor(x * len(items)), len(items) - 1)::INTEGER];

CREATE OR REPLACE TABLE bench_base AS
SELECT i, printf('{county}%010d', i) AS child_id,
    101 + (hash(i, 'village', {seed}) % 400)::INTEGER // {villages} AS town_no,
    201 + (hash(i, 'village', {seed}) % 400)::INTEGER % {villages} AS village_no,
    u(i, 'unknown_village') < 0.005 AS unknown_village,
    (hash(i, 'age', {seed}) % 18)::INTEGER AS age,
    (hash(i, 'birthday', {seed}) % 365)::INTEGER AS birthday,
    u(i, 'resident') < 0.98 AS is_resident,
    u(i, 'migrant') < 0.40 AS migrant,
    u(i, 'left') < 0.10 / 0.60 AS left_behind,
    u(i, 'difficulty') AS u_difficulty,
    u(i, 'key_care') AS u_key_care
FROM range({n}) AS t(i);

CREATE OR REPLACE TABLE classified AS
SELECT b.child_id, b.i,
    pick(u(i, 'surname'), ['王','李','张','刘','陈','杨','黄','赵','吴','周'])
        || pick(u(i, 'given'), ['子涵','浩宇','欣怡','梓萱','一诺','宇轩','雨桐','俊熙']) AS name,
    CASE WHEN u(i, 'sex') < 0.002 THEN NULL WHEN u(i, 'sex') < 0.52 THEN '男' ELSE '女' END
        AS sex,
    (DATE '{as_of}' - to_years(b.age) - to_days(b.birthday))::DATE AS birth_date,
    '{county}' || b.town_no::VARCHAR
        || CASE WHEN b.unknown_village THEN '999' ELSE b.village_no::VARCHAR END
        AS residence_code,
    '{county}' || b.town_no::VARCHAR
        || CASE WHEN b.unknown_village THEN '000' ELSE b.village_no::VARCHAR END
        AS residence_division,
    b.age, b.is_resident,
    b.is_resident AND b.migrant AS is_migrant,
    b.is_resident AND NOT b.migrant AND b.left_behind AS is_left_behind,
    CASE WHEN b.u_key_care < 0.02 THEN list_distinct(
        [pick(u(i, 'key_care_1'), {key_care})]
        || CASE WHEN b.u_key_care < 0.003 THEN [pick(u(i, 'key_care_2'), {key_care})]
           ELSE []::VARCHAR[] END)
        ELSE []::VARCHAR[] END AS key_care,
    CASE WHEN b.u_difficulty < 0.03 THEN list_distinct(
        [pick(u(i, 'difficulty_1'), {difficulty})]
        || CASE WHEN b.u_difficulty < 0.004 THEN [pick(u(i, 'difficulty_2'), {difficulty})]
           ELSE []::VARCHAR[] END)
        ELSE []::VARCHAR[] END AS difficulty,
    CASE WHEN NOT b.is_resident OR b.age NOT BETWEEN 6 AND 16 THEN NULL
         WHEN u(i, 'dropout') < 0.003 THEN 'dropped_out'
         WHEN b.migrant AND u(i, 'dropout') < 0.013 THEN 'not_enrolled' END AS dropout_risk,
    CASE WHEN b.age BETWEEN 3 AND 5 AND u(i, 'stage') < 0.90 THEN '学前'
         WHEN b.age BETWEEN 6 AND 11 AND u(i, 'stage') < 0.98 THEN '小学'
         WHEN b.age BETWEEN 12 AND 14 AND u(i, 'stage') < 0.97 THEN '初中'
         WHEN b.age >= 15 AND u(i, 'stage') < 0.60 THEN '高中'
         WHEN b.age >= 15 AND u(i, 'stage') < 0.85 THEN '中职' END AS stage,
    CASE WHEN u(i, 'hukou') < 0.01 THEN NULL
         WHEN b.migrant AND u(i, 'origin') < 0.30
             THEN pick(u(i, 'place'), ['410421','410422','410423','410425','410481','410482'])
         WHEN b.migrant AND u(i, 'origin') < 0.60
             THEN pick(u(i, 'place'), ['410102','410302','411302','411502','411602','411702'])
         WHEN b.migrant
             THEN pick(u(i, 'place'), ['420102','340102','510104','130102','500101','360102'])
         WHEN u(i, 'origin') < 0.05 THEN '410403'
         ELSE '{county}' END
        || CASE WHEN b.migrant OR u(i, 'origin') < 0.05 THEN '100200'
           ELSE b.town_no::VARCHAR || b.village_no::VARCHAR END AS hukou_code
FROM bench_base AS b;

CREATE OR REPLACE TABLE classify_records AS
SELECT child_id, 'health_child' AS source, u(i, 'doctor') < 0.70 AS family_doctor,
    NULL::VARCHAR AS insurance_status,
    (DATE '{as_of}' - to_days((hash(i, 'health_date', {seed}) % 300)::INTEGER))::DATE
        AS own_date,
    'health_child_2025.xlsx' AS file, 'Sheet1' AS sheet, i::INTEGER AS row
FROM classified WHERE age <= 6 AND u(i, 'health') < 0.85
UNION ALL  -- an older health record for some: the latest one counts
SELECT child_id, 'health_child', u(i, 'doctor_old') < 0.40, NULL,
    (DATE '{as_of}' - to_days(400 + (hash(i, 'health_old', {seed}) % 300)::INTEGER))::DATE,
    'health_child_2024.xlsx', 'Sheet1', i::INTEGER
FROM classified WHERE age <= 6 AND u(i, 'health') < 0.20
UNION ALL
SELECT child_id, 'medical_insurance', NULL,
    CASE WHEN u(i, 'insured') < 0.92 THEN '参保缴费'
         WHEN u(i, 'insured') < 0.97 THEN '暂停' ELSE '终止' END,
    (DATE '{as_of}' - to_days((hash(i, 'insured_date', {seed}) % 200)::INTEGER))::DATE,
    'medical_insurance_2025.csv', '', i::INTEGER
FROM classified WHERE u(i, 'insurance') < 0.95
UNION ALL
SELECT child_id, 'cdc_vaccination', NULL, NULL, (DATE '{as_of}' - to_days(30))::DATE,
    'cdc_vaccination_2025.csv', '', i::INTEGER
FROM classified WHERE age <= 6 AND u(i, 'vaccinated') < 0.80;

CREATE OR REPLACE TABLE classify_parents AS
SELECT child_id,
    CASE WHEN u(i, 'guardian') < 0.02 THEN NULL
         WHEN is_left_behind THEN pick(u(i, 'guardian_kind'),
             ['祖辈监护','祖辈监护','祖辈监护','祖辈监护','祖辈监护','祖辈监护','祖辈监护',
              '亲属监护','亲属监护','委托监护'])
         WHEN len(difficulty) > 0 OR len(key_care) > 0 THEN pick(u(i, 'guardian_kind'),
             ['父母监护','父母监护','单亲监护','单亲监护','祖辈监护','亲属监护','机构监护',
              '无人监护'])
         ELSE pick(u(i, 'guardian_kind'),
             ['父母监护','父母监护','父母监护','父母监护','父母监护','父母监护','父母监护',
              '父母监护','单亲监护','祖辈监护']) END AS guardianship_type
FROM classified
WHERE is_left_behind OR len(difficulty) > 0 OR len(key_care) > 0 OR u(i, 'visited') < 0.40;

CREATE OR REPLACE TABLE eligible_services AS
SELECT child_id, service_code FROM (
    SELECT child_id, unnest([
        CASE WHEN len(difficulty) > 0 THEN 'S01' END,
        CASE WHEN len(difficulty) > 0 THEN 'S02' END,
        CASE WHEN len(difficulty) > 0 AND age <= 6 THEN 'S10' END,
        CASE WHEN len(key_care) > 0 THEN 'S05' END,
        CASE WHEN is_left_behind THEN 'S08' END,
        CASE WHEN is_migrant AND age BETWEEN 3 AND 5 THEN 'S12' END,
        CASE WHEN age <= 6 THEN 'S20' END]) AS service_code
    FROM classified WHERE is_resident)
WHERE service_code IS NOT NULL
ORDER BY child_id, service_code;
"""


def _generate(con: Connection, size: int, seed: int) -> None:
    from tonghu.policy.rules import DIFFICULTY_LABELS, KEY_CARE_LABELS  # noqa: PLC0415

    # Weighted: a code listed more often is more common (低保 far more than 艾滋病病毒感染).
    difficulty = ["dibao"] * 10 + ["dibao_edge"] * 4 + ["tekun", "orphan", "fuc"] + ["disabled"] * 3
    difficulty.append("hiv")
    key_care = ["hardship"] * 8 + ["disability"] * 5 + ["no_guardian"] * 3 + ["psych"] * 2
    key_care += ["vagrant", "asks_help"]
    if set(difficulty) != set(DIFFICULTY_LABELS) or set(key_care) != set(KEY_CARE_LABELS):
        raise RuntimeError("the codes of tonghu.policy.rules have changed: update the bench")
    con.execute(
        _GENERATE.format(
            n=size,
            seed=seed,
            county=COUNTY,
            villages=VILLAGES_PER_TOWN,
            as_of=AS_OF.isoformat(),
            difficulty=_sql_list(difficulty),
            key_care=_sql_list(key_care),
        )
    )


def _sql_list(items: list[str]) -> str:
    return "[" + ", ".join(f"'{item}'" for item in items) + "]"


def _summarise(con: Connection, round_: Round, work: Path, result: SizeResult) -> None:
    from tonghu.pipeline.duck import quote  # noqa: PLC0415
    from tonghu.pipeline.summarise import summarise  # noqa: PLC0415
    from tonghu.policy import load_profile  # noqa: PLC0415
    from tonghu.stats.services import round_figures_load  # noqa: PLC0415

    divisions = _division_table()
    started = time.perf_counter()
    figures = summarise(
        con,
        children="classified",
        services="eligible_services",
        divisions=divisions,
        county=COUNTY,
        profile=load_profile("default"),
    )
    result.summarise_s = time.perf_counter() - started
    path = work / "figures.parquet"
    started = time.perf_counter()
    con.execute(
        f"COPY (SELECT * FROM {figures}) TO {quote(str(path))} (FORMAT parquet, COMPRESSION zstd)"
    )
    result.write_s = time.perf_counter() - started
    started = time.perf_counter()
    result.figure_rows = round_figures_load(round_=round_, path=path)
    result.load_s = time.perf_counter() - started
    _analyze()


# --- the same children in the ledger ------------------------------------------------------

# id_number and its blind index id_number_index stay empty: '' is what the app stores for
# no ID number (both NOT NULL).
LEDGER_COLUMNS = (
    "child_id", "name", "sex", "birth_date", "residence_division_id", "id_number",
    "id_number_index", "hukou_code", "hukou_province", "residence_code", "is_resident",
    "is_migrant", "is_left_behind", "is_key_care", "in_difficulty", "key_care", "difficulty",
    "dropout_risk", "stage", "flags", "services", "reasons", "present", "first_round_id",
    "last_round_id", "version",
)  # fmt: skip

_LEDGER_ROWS = """
SELECT c.child_id, c.name, coalesce(c.sex, ''), strftime(c.birth_date, '%Y-%m-%d'),
    c.residence_division, '', '', coalesce(c.hukou_code, ''), coalesce(c.hukou_code[1:2], ''),
    c.residence_code, c.is_resident, c.is_migrant, c.is_left_behind, len(c.key_care) > 0,
    len(c.difficulty) > 0, to_json(c.key_care)::VARCHAR, to_json(c.difficulty)::VARCHAR,
    coalesce(c.dropout_risk, ''), coalesce(c.stage, ''), '[]',
    to_json(coalesce(s.services, []::VARCHAR[]))::VARCHAR, '', true, {round}, {round}, 1
FROM classified AS c
LEFT JOIN (SELECT child_id, list(service_code ORDER BY service_code) AS services
           FROM eligible_services GROUP BY child_id) AS s USING (child_id)
WHERE c.i >= {start} AND c.i < {stop}
ORDER BY c.i
"""


def _ledger(con: Connection, round_: Round, *, start: int, stop: int, work: Path) -> None:
    """Children ``start`` to ``stop`` into Child: COPY on PostgreSQL, executemany on SQLite."""
    from django.db import connection, transaction  # noqa: PLC0415

    from tonghu.pipeline.duck import quote  # noqa: PLC0415

    if stop <= start:
        return
    sql = _LEDGER_ROWS.format(round=round_.pk, start=start, stop=stop)
    columns = ", ".join(LEDGER_COLUMNS)
    if connection.vendor == "postgresql":
        path = work / "children.csv"
        con.execute(f"COPY ({sql}) TO {quote(str(path))} (HEADER false)")
        with connection.cursor() as cursor, path.open("rb") as source:
            raw = cursor.connection  # psycopg's own connection, for COPY
            with raw.cursor().copy(
                f"COPY children_child ({columns}) FROM STDIN WITH (FORMAT csv)"
            ) as copy:
                while chunk := source.read(1 << 20):
                    copy.write(chunk)
        path.unlink()
    else:
        insert = (
            f"INSERT INTO children_child ({columns}) "
            f"VALUES ({', '.join(['%s'] * len(LEDGER_COLUMNS))})"
        )
        rows = con.execute(sql)
        with transaction.atomic(), connection.cursor() as cursor:
            while batch := rows.fetchmany(INSERT_BATCH):
                cursor.executemany(insert, batch)
    _analyze()


def _analyze() -> None:
    """PostgreSQL: the planner statistics autovacuum would have gathered by now. SQLite: none
    (nothing in a deployment runs ANALYZE there either)."""
    from django.db import connection  # noqa: PLC0415

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


# --- the measurements ----------------------------------------------------------------------


def _naive(code: str) -> Callable[[], object]:
    """The headline figures counted live from the jurisdiction's children: four aggregates
    (group totals; per town or village; per age band; per sex and stage)."""
    from django.db.models import Case, CharField, Count, Q, Value, When  # noqa: PLC0415
    from django.db.models.functions import Substr  # noqa: PLC0415

    from tonghu.accounts.scope import within  # noqa: PLC0415
    from tonghu.children.models import Child  # noqa: PLC0415
    from tonghu.divisions.codes import Level, prefix  # noqa: PLC0415
    from tonghu.divisions.models import Division  # noqa: PLC0415
    from tonghu.policy import load_profile  # noqa: PLC0415

    level = Level(Division.objects.get(code=code).level)
    code_prefix = prefix(code, level)
    below = level.child
    groups = {
        "all": Count("pk"),
        "migrant": Count("pk", filter=Q(is_migrant=True)),
        "left_behind": Count("pk", filter=Q(is_left_behind=True)),
        "difficulty": Count("pk", filter=Q(in_difficulty=True)),
        "key_care": Count("pk", filter=Q(is_key_care=True)),
    }
    bands = [
        When(
            birth_date__gt=AS_OF.replace(year=AS_OF.year - band.max - 1),
            birth_date__lte=AS_OF.replace(year=AS_OF.year - band.min),
            then=Value(band.label),
        )
        for band in load_profile("default").stats.age_bands
    ]

    def count() -> object:
        rows = Child.objects.filter(
            within("residence_division_id", code_prefix), present=True, is_resident=True
        )
        found: list[object] = [rows.aggregate(**groups)]
        if below is not None:
            by_area = rows.annotate(area=Substr("residence_division_id", 1, below.prefix_length))
            found.append(list(by_area.values("area").annotate(**groups).order_by()))
        band = Case(*bands, default=Value("unknown"), output_field=CharField())
        found.append(list(rows.annotate(band=band).values("band").annotate(**groups).order_by()))
        found.append(list(rows.values("sex", "stage").annotate(**groups).order_by()))
        return found

    return count


def _page(user: User, url: str) -> Callable[[], object]:
    from django.test import Client  # noqa: PLC0415

    client = Client()
    client.force_login(user)

    def get() -> object:
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"{url}: HTTP {response.status_code}")
        return len(response.content)

    return get


def _board(user: User, code: str) -> Callable[[], object]:
    from tonghu.stats.dashboard import dashboard  # noqa: PLC0415
    from tonghu.stats.selectors import jurisdiction  # noqa: PLC0415

    return lambda: dashboard(jurisdiction(user=user, code=code))


def _tables(user: User, code: str) -> Callable[[], object]:
    from tonghu.stats.selectors import jurisdiction  # noqa: PLC0415
    from tonghu.stats.tables import standard_tables  # noqa: PLC0415

    return lambda: standard_tables(jurisdiction(user=user, code=code))


PAGE = "GET /stats/ 县 county staff"
# (label, the naive measurement it is compared with)
PAIRS: dict[str, str] = {
    "dashboard() 县 county": "naive 县 county: 4 ORM aggregates over Child",
    "dashboard() 镇 town": "naive 镇 town: 4 ORM aggregates over Child",
    "dashboard() 村 village": "naive 村 village: 3 ORM aggregates over Child",
    PAGE: "naive 县 county: 4 ORM aggregates over Child",
}


def _measure(county_user: User, city_user: User, repeat: int, result: SizeResult) -> None:
    county = f"{COUNTY}000000"
    measurements: dict[str, Callable[[], object]] = {
        "dashboard() 县 county": _board(county_user, county),
        "dashboard() 镇 town": _board(county_user, TOWN),
        "dashboard() 村 village": _board(county_user, VILLAGE),
        "standard_tables() 县 county": _tables(county_user, county),
        PAGE: _page(county_user, "/stats/"),
        "GET /stats/ 市 city staff (protected)": _page(city_user, "/stats/"),
        "GET /stats/tables/ 县 county staff": _page(county_user, "/stats/tables/"),
        "naive 县 county: 4 ORM aggregates over Child": _naive(county),
        "naive 镇 town: 4 ORM aggregates over Child": _naive(TOWN),
        "naive 村 village: 3 ORM aggregates over Child": _naive(VILLAGE),
    }
    result.cold, result.warm = _rounds(measurements, repeat)


def _rounds(
    measurements: dict[str, Callable[[], object]], repeat: int
) -> tuple[dict[str, float], dict[str, float]]:
    """Each measurement's first run and the median of the ``repeat`` after it (ms), run
    round after round so that noise hits all alike."""
    times: dict[str, list[float]] = {label: [] for label in measurements}
    for _ in range(repeat + 1):
        for label, measure in measurements.items():
            started = time.perf_counter()
            measure()
            times[label].append((time.perf_counter() - started) * 1000)
    cold = {label: found[0] for label, found in times.items()}
    warm = {label: statistics.median(found[1:]) for label, found in times.items()}
    return cold, warm


def _city(city_user: User, round_: Round, counties: int, repeat: int) -> None:
    """The city pages when ``counties`` of the city's counties have a round like the bench
    county's: its figures copied into other counties (codes moved), children not."""
    from django.db import connection  # noqa: PLC0415

    from tonghu.rounds.models import Round as RoundModel  # noqa: PLC0415
    from tonghu.rounds.models import RoundStatus  # noqa: PLC0415
    from tonghu.stats.models import RoundFigure  # noqa: PLC0415

    for code in OTHER_COUNTIES[: counties - 1]:
        other = RoundModel.objects.create(
            county_id=f"{code}000000", as_of=AS_OF, status=RoundStatus.DONE
        )
        with connection.cursor() as cursor:
            cursor.execute(
                'INSERT INTO stats_roundfigure (round_id, level, division_code, "group", '
                "dimension, category, n) SELECT %s, level, "
                "CAST(%s AS VARCHAR(6)) || substr(division_code, 7), "
                '"group", dimension, category, n FROM stats_roundfigure WHERE round_id = %s',
                [other.pk, code, round_.pk],
            )
    _analyze()
    city = f"{CITY}00000000"
    measurements = {
        "dashboard() 市 city (protected)": _board(city_user, city),
        "standard_tables() 市 city (protected)": _tables(city_user, city),
        "GET /stats/ 市 city staff (protected)": _page(city_user, "/stats/"),
    }
    cold, warm = _rounds(measurements, repeat)
    print()
    print(
        f"== the city with {counties} counties having a round "
        f"(RoundFigure rows: {RoundFigure.objects.count():,}) =="
    )
    print(f"{'measurement':46}{'median ms':>11}{'cold ms':>10}")
    for label, ms in warm.items():
        print(f"{label:46}{ms:>11.1f}{cold[label]:>10.1f}")


# --- the report ----------------------------------------------------------------------------


def report(result: SizeResult, repeat: int) -> None:
    from django.conf import settings  # noqa: PLC0415
    from django.db import connection  # noqa: PLC0415

    print()
    print(f"== {result.children:,} children ==")
    print(
        f"Python {platform.python_version()}, Django {_version('django')}, "
        f"DuckDB {_version('duckdb')}, {_database_version()} "
        f"({connection.vendor}: {settings.DATABASES['default']['NAME']})"
    )
    print(
        f"synthetic county made in DuckDB: {result.generate_s:.1f} s; "
        f"children into the ledger (Child): {result.ledger_s:.1f} s"
    )
    print(
        f"once per round: summarise {result.summarise_s:.2f} s + figures.parquet "
        f"{result.write_s:.2f} s + round_figures_load {result.load_s:.2f} s = "
        f"{result.summarise_s + result.write_s + result.load_s:.2f} s; "
        f"RoundFigure rows: {result.figure_rows:,}"
    )
    print(f"median of {repeat} warm runs; cold = the first run")
    print(f"{'measurement':46}{'median ms':>11}{'cold ms':>10}{'naive/summary':>15}")
    for label, warm in result.warm.items():
        naive = PAIRS.get(label)
        ratio = f"{result.warm[naive] / warm:>15.1f}" if naive else ""
        print(f"{label:46}{warm:>11.1f}{result.cold[label]:>10.1f}{ratio}")
    page = result.warm[PAGE]
    verdict = "PASS" if page < TARGET_MS else "FAIL"
    scope = "" if result.children >= TARGET_CHILDREN else " (the target is set at 1,000,000)"
    print(
        f"target: {PAGE} < {TARGET_MS:.0f} ms at {TARGET_CHILDREN:,} children: "
        f"{verdict} ({page:.1f} ms at {result.children:,}){scope}"
    )


def growth(results: list[SizeResult]) -> None:
    print()
    print("== growth (median ms) ==")
    print(f"{'measurement':46}" + "".join(f"{r.children:>12,}" for r in results))
    print(f"{'RoundFigure rows':46}" + "".join(f"{r.figure_rows:>12,}" for r in results))
    once = [r.summarise_s + r.write_s + r.load_s for r in results]
    print(f"{'summarise + write + load (s)':46}" + "".join(f"{s:>12.2f}" for s in once))
    for label in results[0].warm:
        print(f"{label:46}" + "".join(f"{r.warm[label]:>12.1f}" for r in results))


def _version(package: str) -> str:
    from importlib.metadata import version  # noqa: PLC0415

    return version(package)


def _database_version() -> str:
    from django.db import connection  # noqa: PLC0415

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            return f"PostgreSQL {cursor.fetchone()[0]}"
        cursor.execute("SELECT sqlite_version()")
        return f"SQLite {cursor.fetchone()[0]}"


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    main()
