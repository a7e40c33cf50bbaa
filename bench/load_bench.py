"""Load test: tonghu on gunicorn and PostgreSQL with a million children, 50 users over loopback.

    .venv/bin/python bench/load_bench.py [--children 1000000] [--users 50] [--seconds 60]
        [--think 1.0] [--warmup 5] [--compare] [--rebuild] [--workers 5] [--threads 4]
        [--server postgres://postgres@127.0.0.1:5432/postgres]

Setup (once; skipped while the database ``tonghu_load`` on the server already holds the
requested number of children from this bench's setup, ``--rebuild`` forces it): creates the
database, migrates it and fills it with the generators of ``bench/stats_bench.py`` (imported,
not copied): the real province, city and counties of the division file plus a synthetic
county 410402 of 20 towns x 20 villages, one finished round, the children made in DuckDB and
COPYed into the ledger (ID numbers empty), and the round's statistics figures, so the dashboard
has data. Then through the app's own code: ID numbers for the children the users open (ORM
saves, so an encrypted column gets sealed values), the round's referrals (``load_referrals``,
as a round opens them), protection cases (``case_open_for_child``), bench accounts of four
roles with one known password, and home visits for a third of the children to visit
(bulk-inserted rows). Finally ``VACUUM ANALYZE``, as autovacuum would have done by the time
people use it. The database comment records what was built.

Run: gunicorn serves ``tonghu.config.wsgi:application`` on 127.0.0.1 (DEBUG off, persistent
database connections, a fresh TONGHU_VAR_DIR under a temporary folder). Every virtual user
logs in through the real login form (CSRF token included) with its own session and, for the
JSON API, uses a bearer token issued for its account (no cookies). Each loops through the
pages its role uses -- home, the child list (first page and filtered), a child's file, the
visit worklist, the statistics dashboard, the referrals inbox, the cases list, the API's
child list and child -- waiting a think time between requests, for ``--seconds`` after a
warm-up that is not counted. ``--compare`` then runs the same users with no think time
(closed loop) to show the saturation throughput beside it.

Printed: the machine and server configuration, per endpoint and overall p50/p95/p99,
throughput and errors (a status other than 2xx/3xx, a redirect to the login page, or an
exception), and PASS/FAIL against the target: p95 under 300 ms with zero errors, for the
think-time run. The client runs on the same machine as the server and PostgreSQL, so its CPU
use is part of the load.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import datetime as dt
import hashlib
import math
import os
import platform
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

    from tonghu.accounts.models import User
    from tonghu.children.models import Child

ROOT = Path(__file__).resolve().parent.parent
DB_NAME = "tonghu_load"
SETUP_VERSION = 1  # bump when the setup below changes what it builds
MARKER = "tonghu load_bench v{version}: children={children} seed={seed}"
PASSWORD = "load-bench-password-2025"  # noqa: S105  (synthetic accounts of a bench database)
TOKEN_NAME = "load bench"  # noqa: S105  (a token's label)
TARGET_P95_MS = 300.0

COUNTY = "410402"
COUNTY_CODE = f"{COUNTY}000000"


def _rng(seed: int) -> random.Random:
    return random.Random(seed)  # noqa: S311  (synthetic data and a load's choices, no secrets)


def _town(number: int) -> str:
    return f"{COUNTY}{number:03d}000"


def _village(town_number: int, village_number: int) -> str:
    return f"{COUNTY}{town_number:03d}{village_number:03d}"


# --- accounts and what each role does ------------------------------------------------------


@dataclass(frozen=True)
class RoleSpec:
    label: str
    share: float  # of the virtual users
    accounts: int  # bench accounts of the role (virtual users beyond share them, own sessions)
    mix: dict[str, int]  # endpoint -> weight in the role's loop


ROLES: dict[str, RoleSpec] = {
    "director": RoleSpec(
        "儿童主任 (village)",
        0.60,
        40,
        {
            "home": 2, "children list p1": 2, "children list filtered": 1, "child file": 3,
            "worklist": 2, "stats dashboard": 1, "cases list": 1, "api children list": 1,
            "api child detail": 1,
        },
    ),
    "supervisor": RoleSpec(
        "督导员 (town)",
        0.16,
        10,
        {
            "home": 1, "children list p1": 2, "children list filtered": 2, "child file": 2,
            "worklist": 1, "stats dashboard": 1, "cases list": 1, "api children list": 1,
            "api child detail": 1,
        },
    ),
    "county": RoleSpec(
        "区县民政 (county)",
        0.16,
        8,
        {
            "home": 1, "children list p1": 2, "children list filtered": 2, "child file": 2,
            "stats dashboard": 2, "cases list": 1, "api children list": 1, "api child detail": 1,
        },
    ),
    "officer": RoleSpec(
        "教育部门 (county)",
        0.08,
        4,
        {"home": 1, "referrals list": 4, "stats dashboard": 1, "cases list": 1},
    ),
}  # fmt: skip
ENDPOINTS = (
    "home", "children list p1", "children list filtered", "child file", "worklist",
    "stats dashboard", "referrals list", "cases list", "api children list", "api child detail",
)  # fmt: skip


@dataclass
class Account:
    username: str
    role: str
    division: str
    children: list[str] = field(default_factory=list)  # child ids the user opens
    filters: list[str] = field(default_factory=list)  # filtered list query strings
    token: str = ""


def bench_accounts() -> list[Account]:
    """The bench's accounts: directors in the villages 201 and 202 of each town, supervisors
    of the first ten towns, county staff, and education officers of the county."""
    accounts = []
    for k in range(ROLES["director"].accounts):
        village = _village(101 + k % 20, 201 + k // 20)
        accounts.append(Account(f"load_director_{k:02d}", "director", village))
    for k in range(ROLES["supervisor"].accounts):
        accounts.append(Account(f"load_supervisor_{k:02d}", "supervisor", _town(101 + k)))
    for k in range(ROLES["county"].accounts):
        accounts.append(Account(f"load_county_{k:02d}", "county", COUNTY_CODE))
    for k in range(ROLES["officer"].accounts):
        accounts.append(Account(f"load_officer_{k:02d}", "officer", COUNTY_CODE))
    return accounts


def _filters(account: Account) -> list[str]:
    """The filtered list pages a user of this account runs (query strings)."""
    if account.role == "director":
        return ["category=left_behind", "category=migrant&age_band=6-11", "name=王子"]
    if account.role == "supervisor":
        town = int(account.division[6:9])
        return [
            f"division={_village(town, 203)}&category=migrant",
            "category=left_behind",
            "key_care=hardship",
        ]
    return [
        f"category=migrant&division={_town(105)}&age_band=6-11",
        "category=left_behind",
        "stage=初中&hukou_province=42",
        f"division={_village(107, 209)}",
    ]


def sample_children(account: Account, *, children: int, seed: int) -> list[str]:
    """The child ids a user of this account opens: the first ones of its village(s), or for
    county staff a fixed random sample of the county (the generator numbers the children
    ``410402`` + 10 digits)."""
    from tonghu.children.models import Child  # noqa: PLC0415

    if account.role == "director":
        villages = [account.division]
        per_village = 20
    elif account.role == "supervisor":
        town = int(account.division[6:9])
        villages = [_village(town, v) for v in range(201, 221)]
        per_village = 2
    elif account.role == "county":
        rng = _rng(seed)
        wanted = [f"{COUNTY}{i:010d}" for i in rng.sample(range(children), min(50, children))]
        return list(
            Child.objects.filter(child_id__in=wanted)
            .order_by("child_id")
            .values_list("child_id", flat=True)
        )
    else:
        return []
    found: list[str] = []
    for village in villages:
        found += Child.objects.filter(residence_division_id=village).values_list(
            "child_id", flat=True
        )[:per_village]
    return found


# --- setup ---------------------------------------------------------------------------------


def bench_env(database_url: str, var_dir: Path) -> dict[str, str]:
    """The environment of the app, for this process (setup) and for gunicorn alike. The
    field and index keys are fixed bench values (synthetic data), so that values sealed by the
    setup open in every later run and every worker uses the same keys."""
    field_key = base64.urlsafe_b64encode(hashlib.sha256(b"tonghu load bench field").digest())
    index_key = base64.urlsafe_b64encode(hashlib.sha256(b"tonghu load bench index").digest())
    return {
        "DJANGO_SETTINGS_MODULE": "tonghu.config.settings",
        "DATABASE_URL": database_url,
        "TONGHU_DEBUG": "0",
        "TONGHU_VAR_DIR": str(var_dir),
        "TONGHU_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "TONGHU_SECRET_KEY": secrets.token_urlsafe(48),
        "TONGHU_FIELD_KEYS": field_key.decode(),
        "TONGHU_INDEX_KEY": index_key.decode(),
    }


def _server(url: str, statement: str, params: tuple[object, ...] = ()) -> Any:
    import psycopg  # noqa: PLC0415

    with psycopg.connect(url, autocommit=True) as admin:
        cursor = admin.execute(statement, params)  # type: ignore[arg-type]
        return cursor.fetchone() if cursor.description else None


def _server_all(url: str, statement: str, params: tuple[object, ...] = ()) -> list[Any]:
    import psycopg  # noqa: PLC0415

    with psycopg.connect(url, autocommit=True) as admin:
        return admin.execute(statement, params).fetchall()  # type: ignore[arg-type]


def cached(server: str, children: int, seed: int) -> bool:
    """Whether the bench database holds a finished setup of this size and seed."""
    row = _server(
        server,
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
        (DB_NAME,),
    )
    wanted = MARKER.format(version=SETUP_VERSION, children=children, seed=seed)
    return row is not None and row[0] == wanted


@contextlib.contextmanager
def timed(label: str) -> Iterator[None]:
    print(f"  {label} ...", end="", flush=True)
    started = time.perf_counter()
    yield
    print(f" {time.perf_counter() - started:.1f} s", flush=True)


def setup(server: str, children: int, seed: int, work: Path) -> float:
    """Build the bench database; returns the seconds it took."""
    started = time.perf_counter()
    print(f"setup: building database {DB_NAME} with {children:,} children")
    with timed("create and migrate the database"):
        _server(server, f"DROP DATABASE IF EXISTS {DB_NAME}")
        _server(server, f"CREATE DATABASE {DB_NAME}")
        import django  # noqa: PLC0415

        django.setup()
        from django.core.management import call_command  # noqa: PLC0415

        call_command("migrate", verbosity=0)
    from bench import stats_bench  # noqa: PLC0415
    from tonghu.pipeline.duck import connect  # noqa: PLC0415

    with timed("divisions (the county: 20 towns x 20 villages), round, staff users"):
        county_user, _, round_ = stats_bench._county()
    con = connect(memory_limit="4GB", temp_dir=work / "duckdb")
    with timed(f"{children:,} classified children generated in DuckDB"):
        stats_bench._generate(con, children, seed)
    with timed("statistics figures summarised and loaded"):
        stats_bench._summarise(con, round_, work, stats_bench.SizeResult(children=children))
    with timed("children COPYed into the ledger"), _defaults_for_copy(stats_bench.LEDGER_COLUMNS):
        stats_bench._ledger(con, round_, start=0, stop=children, work=work)
    con.close()
    with timed("bench accounts"):
        users = _accounts()
    with timed("ID numbers of the children users open (ORM saves)"):
        _id_numbers(children, seed)
    with timed("referrals opened as the round does (load_referrals)"):
        referrals = _referrals(round_)
    with timed("protection cases (case_open_for_child)"):
        cases = _cases(county_user, children, seed)
    with timed("home visits (bulk insert)"):
        visits = _visits(users, seed)
    with timed("VACUUM ANALYZE"):
        _vacuum()
    print(f"  referrals: {referrals:,}, cases: {cases:,}, visits: {visits:,}")
    from django.db import connections  # noqa: PLC0415

    connections.close_all()
    marker = MARKER.format(version=SETUP_VERSION, children=children, seed=seed)
    _server(server, f"COMMENT ON DATABASE {DB_NAME} IS '{marker}'")
    return time.perf_counter() - started


@contextlib.contextmanager
def _defaults_for_copy(columns: tuple[str, ...]) -> Iterator[None]:
    """While the shared generator COPYs children: an empty default for each NOT NULL text
    column of the ledger that it does not write (such as a blind index of the ID number it
    leaves empty, where '' is what the app stores for no number), dropped afterwards."""
    from django.db import connection  # noqa: PLC0415

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = 'children_child' AND is_nullable = 'NO' "
            "AND column_default IS NULL AND column_name <> 'id'"
        )
        missing = [(name, kind) for name, kind in cursor.fetchall() if name not in columns]
    if unknown := [name for name, kind in missing if kind not in {"text", "character varying"}]:
        raise RuntimeError(f"the ledger generator does not fill {unknown}: update the bench")
    with connection.cursor() as cursor:
        for name, _ in missing:
            cursor.execute(f"ALTER TABLE children_child ALTER COLUMN \"{name}\" SET DEFAULT ''")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for name, _ in missing:
                cursor.execute(f'ALTER TABLE children_child ALTER COLUMN "{name}" DROP DEFAULT')


def _accounts() -> dict[str, User]:
    from django.contrib.auth.hashers import make_password  # noqa: PLC0415

    from tonghu.accounts.models import User  # noqa: PLC0415
    from tonghu.accounts.roles import Department, Role  # noqa: PLC0415

    roles = {
        "director": Role.CHILD_DIRECTOR,
        "supervisor": Role.SUPERVISOR,
        "county": Role.COUNTY_STAFF,
        "officer": Role.DEPARTMENT_OFFICER,
    }
    hashed = make_password(PASSWORD)  # once: Argon2 is slow on purpose
    users = {}
    for account in bench_accounts():
        user = User(username=account.username, role=roles[account.role])
        user.division_id = account.division
        if account.role == "officer":
            user.department = Department.EDUCATION
        user.password = hashed
        user.full_clean()
        user.save()
        users[account.username] = user
    return users


def _id_numbers(children: int, seed: int) -> None:
    """Synthetic ID numbers for the children the users open, saved through the ORM (the
    COPY left them empty), so the file pages show one as a real ledger would."""
    from tonghu.children.models import Child  # noqa: PLC0415
    from tonghu.synth.ids import build  # noqa: PLC0415

    wanted = {c for a in bench_accounts() for c in sample_children(a, children=children, seed=seed)}
    for number, child in enumerate(Child.objects.filter(child_id__in=wanted)):
        birth = child.birth_date or dt.date(2015, 1, 1)
        child.id_number = build(COUNTY, birth, number % 999 + 1)
        child.save()


def _referrals(round_: Any) -> int:
    from django.utils import timezone  # noqa: PLC0415

    from tonghu.policy import load_profile  # noqa: PLC0415
    from tonghu.services.loading import load_referrals  # noqa: PLC0415

    # Opened a fortnight ago: some are past their answer date, as in a real inbox.
    today = timezone.localdate() - dt.timedelta(days=14)
    opened, _ = load_referrals(round_=round_, profile=load_profile("default"), today=today)
    return opened


SITUATIONS = (["abandoned"], ["guardian_failing"], ["violence"], ["alone_or_missing", "begging"])


def _cases(county_user: User, children: int, seed: int) -> int:
    """Cases opened from warnings by county staff: eight in each director's village and
    two hundred elsewhere in the county, every fifth one with the police."""
    from tonghu.cases.intake import case_open_for_child  # noqa: PLC0415
    from tonghu.children.models import Child  # noqa: PLC0415

    directors = [a for a in bench_accounts() if a.role == "director"]
    picked: list[Child] = []
    for account in directors:
        picked += Child.objects.filter(residence_division_id=account.division)[20:28]
    rng = _rng(seed + 1)
    others = [f"{COUNTY}{i:010d}" for i in rng.sample(range(children), min(200, children))]
    picked += Child.objects.filter(child_id__in=others)
    for n, child in enumerate(picked):
        case_open_for_child(
            user=county_user,
            child=child,
            situations=SITUATIONS[n % len(SITUATIONS)],
            police_needed=n % 5 == 0,
            note="负载测试预警",
        )
    return len(picked)


def _visits(users: dict[str, User], seed: int) -> int:
    """Home visits and calls in the last 200 days for a third of the children to visit (by
    their village's bench director, else by a county bench user)."""
    from django.utils import timezone  # noqa: PLC0415

    from tonghu.children.models import Child  # noqa: PLC0415
    from tonghu.visits.models import Visit  # noqa: PLC0415
    from tonghu.visits.selectors import TO_VISIT  # noqa: PLC0415

    by_village = {a.division: users[a.username] for a in bench_accounts() if a.role == "director"}
    fallback = users["load_county_00"]
    rng = _rng(seed + 2)
    today = timezone.localdate()
    rows = Child.objects.filter(TO_VISIT).values_list("pk", "residence_division_id")
    batch: list[Visit] = []
    made = 0
    for pk, village in rows.iterator(chunk_size=10_000):
        if rng.random() >= 1 / 3:
            continue
        batch.append(
            Visit(
                child_id=pk,
                kind=Visit.Kind.HOME if rng.random() < 0.7 else Visit.Kind.CONTACT,
                visited_on=today - dt.timedelta(days=rng.randrange(200)),
                visited_by=by_village.get(village, fallback),
                token=uuid.UUID(int=rng.getrandbits(128)),
                child_version=1,
            )
        )
        if len(batch) == 10_000:
            made += len(Visit.objects.bulk_create(batch))
            batch = []
    made += len(Visit.objects.bulk_create(batch))
    return made


def _vacuum() -> None:
    from django.db import connection  # noqa: PLC0415

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


# --- preparing a run -------------------------------------------------------------------


def prepare(accounts: list[Account], *, children: int, seed: int) -> None:
    """Migrate (a no-op unless the code moved on), issue each account a fresh API token and
    fix what each user opens."""
    from django.core.management import call_command  # noqa: PLC0415
    from django.db import connections  # noqa: PLC0415

    from tonghu.accounts.models import ApiToken, User  # noqa: PLC0415

    call_command("migrate", verbosity=0)
    ApiToken.objects.filter(name=TOKEN_NAME).delete()
    for account in accounts:
        user = User.objects.get(username=account.username)
        _, account.token = ApiToken.issue(user=user, name=TOKEN_NAME)
        account.children = sample_children(account, children=children, seed=seed)
        account.filters = _filters(account)
        if account.role != "officer" and not account.children:
            raise RuntimeError(f"{account.username}: no children in {account.division}")
    connections.close_all()


def server_facts() -> dict[str, str]:
    from django.conf import settings  # noqa: PLC0415
    from django.db import connection  # noqa: PLC0415

    facts = {"conn_max_age": str(settings.DATABASES["default"].get("CONN_MAX_AGE"))}
    facts["conn_health_checks"] = str(settings.DATABASES["default"].get("CONN_HEALTH_CHECKS"))
    with connection.cursor() as cursor:
        for name in ("server_version", "shared_buffers", "work_mem", "max_connections"):
            cursor.execute(f"SHOW {name}")
            facts[name] = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM children_child")
        facts["children"] = f"{cursor.fetchone()[0]:,}"
    connection.close()
    return facts


# --- the server ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ServerConfig:
    workers: int
    threads: int
    keep_alive: int = 30
    timeout: int = 60

    def describe(self) -> str:
        return (
            f"gunicorn {_version('gunicorn')} gthread, {self.workers} workers x "
            f"{self.threads} threads = {self.workers * self.threads} requests at once, "
            f"--preload, keep-alive {self.keep_alive} s, timeout {self.timeout} s"
        )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def gunicorn(config: ServerConfig, env: dict[str, str], log: Path) -> Iterator[tuple[str, int]]:
    """gunicorn serving the app on a free loopback port; yields its base URL and the
    master's process id."""
    port = _free_port()
    command = [
        sys.executable, "-m", "gunicorn", "tonghu.config.wsgi:application",
        "--bind", f"127.0.0.1:{port}",
        "--worker-class", "gthread",
        "--workers", str(config.workers),
        "--threads", str(config.threads),
        "--keep-alive", str(config.keep_alive),
        "--timeout", str(config.timeout),
        "--graceful-timeout", "10",
        "--preload",
        "--log-level", "warning",
        "--error-logfile", str(log),
    ]  # fmt: skip
    with log.open("ab") as out:
        process = subprocess.Popen(  # noqa: S603  (our own interpreter and arguments)
            command, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=out
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, process, log)
        yield base, process.pid
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_ready(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    import httpx  # noqa: PLC0415

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({process.returncode}):\n{_tail(log)}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/accounts/login/", timeout=5).status_code == 200:
                return
        time.sleep(0.3)
    raise RuntimeError(f"gunicorn did not answer within 60 s:\n{_tail(log)}")


def _tail(log: Path, lines: int = 30) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


# --- CPU accounting ------------------------------------------------------------------------


def _cpu_of(pid: int) -> float | None:
    """User + system CPU seconds of a process so far (Linux /proc), None if it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()  # from field 3 (state) on
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children_of(parent: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == parent:
                found.append(int(stat.parent.name))
    return found


@dataclass
class Cpu:
    """CPU seconds used in a stretch of time: by the gunicorn workers, by the PostgreSQL
    backends serving the bench database, and by this client."""

    app: float = 0.0
    db: float = 0.0
    client: float = 0.0


class CpuMeter:
    """Counts the CPU time of the server's processes, which a busy machine does not inflate
    the way it does wall time (only a little, through caches). A backend that exits inside
    the stretch (a connection past CONN_MAX_AGE) loses what it used since the start."""

    def __init__(self, master: int, server: str) -> None:
        self.master = master
        self.server = server

    def _snapshot(self) -> tuple[dict[int, float], dict[int, float], float]:
        rows = _server_all(
            self.server, "SELECT pid FROM pg_stat_activity WHERE datname = %s", (DB_NAME,)
        )
        app = {pid: _cpu_of(pid) for pid in _children_of(self.master)}
        db = {pid: _cpu_of(pid) for (pid,) in rows}
        return (
            {k: v for k, v in app.items() if v is not None},
            {k: v for k, v in db.items() if v is not None},
            time.process_time(),
        )

    def start(self) -> Callable[[], Cpu]:
        app0, db0, client0 = self._snapshot()

        def stop() -> Cpu:
            app1, db1, client1 = self._snapshot()
            return Cpu(
                app=sum(v - app0.get(pid, 0.0) for pid, v in app1.items()),
                db=sum(v - db0.get(pid, 0.0) for pid, v in db1.items()),
                client=client1 - client0,
            )

        return stop


# --- the virtual users -----------------------------------------------------------------


@dataclass
class Sample:
    endpoint: str
    role: str
    ms: float
    status: int  # 0: an exception
    error: str = ""


@dataclass
class VirtualUser:
    number: int
    account: Account
    rng: random.Random
    steps: list[str] = field(default_factory=list)
    position: int = 0
    web: httpx.AsyncClient | None = None
    api: httpx.AsyncClient | None = None

    def next_step(self) -> str:
        step = self.steps[self.position % len(self.steps)]
        self.position += 1
        return step

    def url(self, endpoint: str) -> str:
        pick = self.rng.choice
        urls: dict[str, Callable[[], str]] = {
            "home": lambda: "/",
            "children list p1": lambda: "/children/",
            "children list filtered": lambda: f"/children/?{pick(self.account.filters)}",
            "child file": lambda: f"/children/{pick(self.account.children)}/",
            "worklist": lambda: "/visits/",
            "stats dashboard": lambda: "/stats/",
            "referrals list": lambda: pick(
                [
                    "/services/referrals/",
                    "/services/referrals/?status=overdue",
                    "/services/referrals/?page=2",
                ]
            ),
            "cases list": lambda: "/cases/",
            "api children list": lambda: f"/api/children?page={self.rng.randint(1, 5)}",
            "api child detail": lambda: f"/api/children/{pick(self.account.children)}",
        }
        return urls[endpoint]()


def virtual_users(accounts: list[Account], users: int, seed: int) -> list[VirtualUser]:
    """``users`` virtual users split over the roles by their shares (largest remainder),
    each on an account of its role (round robin) with its own shuffled loop of the role's
    pages."""
    shares = {role: spec.share * users for role, spec in ROLES.items()}
    counts = {role: math.floor(share) for role, share in shares.items()}
    for role in sorted(shares, key=lambda r: counts[r] - shares[r])[: users - sum(counts.values())]:
        counts[role] += 1
    by_role: dict[str, list[Account]] = defaultdict(list)
    for account in accounts:
        by_role[account.role].append(account)
    made = []
    for role, count in counts.items():
        for k in range(count):
            rng = _rng(seed * 1000 + len(made))
            steps = [e for e, weight in ROLES[role].mix.items() for _ in range(weight)]
            rng.shuffle(steps)
            account = by_role[role][k % len(by_role[role])]
            made.append(VirtualUser(len(made), account, rng, steps))
    return made


CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


async def login(vu: VirtualUser, base: str) -> float:
    """The real login form: GET it (CSRF cookie and token), POST the credentials; returns
    the seconds the POST took."""
    import httpx  # noqa: PLC0415

    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    vu.web = httpx.AsyncClient(base_url=base, timeout=60, limits=limits)
    vu.api = httpx.AsyncClient(
        base_url=base,
        timeout=30,
        limits=limits,
        headers={"Authorization": f"Bearer {vu.account.token}"},
    )
    form = await vu.web.get("/accounts/login/")
    found = CSRF_INPUT.search(form.text)
    if form.status_code != 200 or found is None:
        raise RuntimeError(f"login form: HTTP {form.status_code}")
    started = time.perf_counter()
    answer = await vu.web.post(
        "/accounts/login/",
        data={
            "username": vu.account.username,
            "password": PASSWORD,
            "csrfmiddlewaretoken": found.group(1),
        },
    )
    seconds = time.perf_counter() - started
    if answer.status_code != 302 or "/accounts/login/" in answer.headers.get("location", ""):
        raise RuntimeError(f"login of {vu.account.username}: HTTP {answer.status_code}")
    return seconds


async def request(vu: VirtualUser, endpoint: str) -> Sample:
    import httpx  # noqa: PLC0415

    client = vu.api if endpoint.startswith("api ") else vu.web
    assert client is not None  # noqa: S101
    url = vu.url(endpoint)
    started = time.perf_counter()
    try:
        response = await client.get(url)
    except httpx.HTTPError as error:
        ms = (time.perf_counter() - started) * 1000
        return Sample(endpoint, vu.account.role, ms, 0, f"{type(error).__name__} {url}")
    ms = (time.perf_counter() - started) * 1000
    status = response.status_code
    error = ""
    if status >= 400:
        error = f"HTTP {status} {url}"
    elif 300 <= status < 400 and "/accounts/login/" in response.headers.get("location", ""):
        error = f"HTTP {status} to the login page {url}"
    return Sample(endpoint, vu.account.role, ms, status, error)


async def run_users(
    vus: list[VirtualUser], *, seconds: float, think: float, samples: list[Sample] | None
) -> float:
    """Every user loops for ``seconds``: request, then wait ``think`` x uniform(0.5, 1.5)
    (mean ``think``). Users start spread over one think time. Returns the elapsed seconds
    (from the start to the last answer)."""
    started = time.perf_counter()
    end = started + seconds

    async def loop(vu: VirtualUser) -> None:
        if think:
            await asyncio.sleep(vu.rng.uniform(0, think))
        while time.perf_counter() < end:
            sample = await request(vu, vu.next_step())
            if samples is not None:
                samples.append(sample)
            if think:
                pause = think * vu.rng.uniform(0.5, 1.5)
                await asyncio.sleep(max(0.0, min(pause, end - time.perf_counter())))

    await asyncio.gather(*(loop(vu) for vu in vus))
    return time.perf_counter() - started


@dataclass
class Phase:
    name: str
    think: float
    seconds: float = 0.0
    samples: list[Sample] = field(default_factory=list)
    cpu: Cpu = field(default_factory=Cpu)


@dataclass
class Probe:
    """One endpoint for one role, requested alone, one request after the other."""

    endpoint: str
    role: str
    samples: list[Sample] = field(default_factory=list)
    cpu: Cpu = field(default_factory=Cpu)


async def probe_all(vus: list[VirtualUser], meter: CpuMeter, repeat: int) -> list[Probe]:
    """Each endpoint of each role ``repeat`` times in a row with nothing else running (the
    role's first user): its own server CPU per request, as a busy machine barely changes."""
    probes = []
    for endpoint in ENDPOINTS:
        for role, spec in ROLES.items():
            if endpoint not in spec.mix:
                continue
            vu = next(vu for vu in vus if vu.account.role == role)
            probe = Probe(endpoint, role)
            stop = meter.start()
            for _ in range(repeat):
                probe.samples.append(await request(vu, endpoint))
            probe.cpu = stop()
            probes.append(probe)
    return probes


async def warm(base: str, slots: int) -> None:
    """Until every worker has served pages: a worker imports the views at its first request
    (seconds on a busy machine), which no user of a running deployment waits for. Rounds of
    ``slots`` concurrent login-page requests until one whose slowest answer is under 1 s."""
    import httpx  # noqa: PLC0415

    deadline = time.monotonic() + 300
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:

        async def one() -> float:
            started = time.perf_counter()
            (await client.get("/accounts/login/")).raise_for_status()
            return time.perf_counter() - started

        while time.monotonic() < deadline:
            if max(await asyncio.gather(*(one() for _ in range(slots)))) < 1.0:
                return
    raise RuntimeError("the server did not warm up within 300 s")


async def drive(
    base: str, vus: list[VirtualUser], meter: CpuMeter, *, seconds: float, think: float,
    warmup: float, compare: bool, slots: int, probe: int,
) -> tuple[list[float], list[Phase], list[Probe]]:  # fmt: skip
    await warm(base, slots)
    logins: list[float] = []
    gate = asyncio.Semaphore(10)  # Argon2 takes ~100 MB a check: not fifty at once

    async def one(vu: VirtualUser) -> None:
        async with gate:
            logins.append(await login(vu, base))

    await asyncio.gather(*(one(vu) for vu in vus))
    phases = [Phase(f"think {think:g} s", think)]
    if compare:
        phases.append(Phase("closed loop, no think", 0.0))
    try:
        for phase in phases:
            if warmup:
                await run_users(vus, seconds=warmup, think=phase.think, samples=None)
            stop = meter.start()
            phase.seconds = await run_users(
                vus, seconds=seconds, think=phase.think, samples=phase.samples
            )
            phase.cpu = stop()
        probes = await probe_all(vus, meter, probe) if probe else []
    finally:
        for vu in vus:
            for client in (vu.web, vu.api):
                if client is not None:
                    await client.aclose()
    return logins, phases, probes


# --- the report ----------------------------------------------------------------------------


def percentile(ordered: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not ordered:
        return math.nan
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def _row(label: str, samples: list[Sample], seconds: float) -> str:
    ms = sorted(s.ms for s in samples)
    errors = sum(1 for s in samples if s.error)
    return (
        f"{label:36}{len(ms):>7}{len(ms) / seconds:>8.1f}{errors:>7}"
        f"{percentile(ms, 50):>9.0f}{percentile(ms, 95):>9.0f}{percentile(ms, 99):>9.0f}"
        f"{(ms[-1] if ms else math.nan):>9.0f}"
    )


def _per_request(seconds: float, requests: int) -> float:
    return seconds * 1000 / requests if requests else math.nan


def cpu_line(phase: Phase, cores: int) -> str:
    n, cpu = len(phase.samples), phase.cpu
    total = cpu.app + cpu.db + cpu.client
    return (
        f"CPU per request: gunicorn {_per_request(cpu.app, n):.0f} ms + PostgreSQL "
        f"{_per_request(cpu.db, n):.0f} ms + this client {_per_request(cpu.client, n):.0f} ms"
        f" = {_per_request(total, n):.0f} ms; these used {total / phase.seconds:.2f} of the "
        f"{cores} cores (the rest went to other processes or idled); with the cores to "
        f"themselves they would serve about {cores / (total / n) if n and total else 0:.0f} "
        f"req/s"
    )


def report_probes(probes: list[Probe], repeat: int) -> None:
    print()
    print(f"== one request at a time: each endpoint {repeat} times in a row, nothing else ==")
    print(
        f"{'endpoint [role]':40}{'p50 ms':>9}{'max ms':>9}{'app CPU':>9}{'db CPU':>9}{'errors':>8}"
    )
    for probe in probes:
        ms = sorted(s.ms for s in probe.samples)
        n = len(ms)
        errors = sum(1 for s in probe.samples if s.error)
        print(
            f"{f'{probe.endpoint} [{probe.role}]':40}{percentile(ms, 50):>9.0f}{ms[-1]:>9.0f}"
            f"{_per_request(probe.cpu.app, n):>9.0f}{_per_request(probe.cpu.db, n):>9.0f}"
            f"{errors:>8}"
        )
    print("(app CPU and db CPU: ms per request of the gunicorn workers and PostgreSQL backends)")


def report_phase(phase: Phase, cores: int) -> None:
    print()
    print(f"== {phase.name}: {len(phase.samples):,} requests in {phase.seconds:.1f} s ==")
    header = f"{'endpoint':36}{'n':>7}{'req/s':>8}{'errors':>7}"
    print(header + f"{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    by_endpoint: dict[str, list[Sample]] = defaultdict(list)
    by_role: dict[tuple[str, str], list[Sample]] = defaultdict(list)
    for sample in phase.samples:
        by_endpoint[sample.endpoint].append(sample)
        by_role[sample.endpoint, sample.role].append(sample)
    for endpoint in ENDPOINTS:
        if by_endpoint[endpoint]:
            print(_row(endpoint, by_endpoint[endpoint], phase.seconds))
    print(_row("ALL", phase.samples, phase.seconds))
    print(cpu_line(phase, cores))
    print("by role:")
    for endpoint in ENDPOINTS:
        for role in ROLES:
            if by_role[endpoint, role]:
                label = f"  {endpoint} [{role}]"
                print(_row(label, by_role[endpoint, role], phase.seconds))
    errors = Counter(s.error for s in phase.samples if s.error)
    for error, count in errors.most_common(10):
        print(f"  error x{count}: {error}")


def verdict(phase: Phase) -> tuple[bool, str]:
    ms = sorted(s.ms for s in phase.samples)
    p95 = percentile(ms, 95)
    errors = sum(1 for s in phase.samples if s.error)
    passed = bool(ms) and p95 < TARGET_P95_MS and errors == 0
    return passed, (
        f"{'PASS' if passed else 'FAIL'}: p95 {p95:.0f} ms "
        f"({'<' if p95 < TARGET_P95_MS else '>='} {TARGET_P95_MS:.0f} ms), errors {errors}"
    )


def side_by_side(phases: list[Phase]) -> None:
    print()
    print("== side by side ==")
    print(f"{'':24}" + "".join(f"{p.name:>26}" for p in phases))
    rows: list[tuple[str, Callable[[Phase, list[float]], str]]] = [
        ("requests", lambda p, ms: f"{len(ms):,}"),
        ("throughput req/s", lambda p, ms: f"{len(ms) / p.seconds:.1f}"),
        ("p50 ms", lambda p, ms: f"{percentile(ms, 50):.0f}"),
        ("p95 ms", lambda p, ms: f"{percentile(ms, 95):.0f}"),
        ("p99 ms", lambda p, ms: f"{percentile(ms, 99):.0f}"),
        ("errors", lambda p, ms: f"{sum(1 for s in p.samples if s.error)}"),
    ]
    ordered = {p.name: sorted(s.ms for s in p.samples) for p in phases}
    for label, cell in rows:
        print(f"{label:24}" + "".join(f"{cell(p, ordered[p.name]):>26}" for p in phases))


def _version(package: str) -> str:
    from importlib.metadata import version  # noqa: PLC0415

    return version(package)


def _server_errors(log: Path) -> int:
    text = log.read_text(errors="replace") if log.exists() else ""
    return sum(1 for line in text.splitlines() if " ERROR " in line or "Traceback" in line)


# --- main ----------------------------------------------------------------------------------


def main() -> None:
    cores = os.cpu_count() or 1
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=50, help="concurrent virtual users")
    parser.add_argument("--seconds", type=float, default=60.0, help="measured time per run")
    parser.add_argument("--think", type=float, default=1.0, help="mean think time (s)")
    parser.add_argument("--warmup", type=float, default=10.0, help="uncounted seconds first")
    parser.add_argument("--compare", action="store_true", help="also run with no think time")
    parser.add_argument("--rebuild", action="store_true", help="build the database anew")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--probe", type=int, default=10, help="then each endpoint alone N times (0: skip)"
    )
    # gthread: processes for parallel Python (the GIL) -- 2 x cores + 1, so a process is
    # ready to run while others wait on PostgreSQL -- and a few threads each to overlap those
    # waits. 5 x 4 = 20 requests at once on 2 cores: more only queue on the CPU (PostgreSQL
    # and this client share it) and hold more database connections (one per thread,
    # persistent, well under max_connections=100).
    parser.add_argument("--workers", type=int, default=2 * cores + 1)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--server", default="postgres://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    if args.children < 1000 or args.users < 1 or args.seconds <= 0 or args.think < 0:
        parser.error("need --children >= 1000, --users >= 1, --seconds > 0, --think >= 0")
    sys.path.insert(0, str(ROOT))
    database_url = args.server.rsplit("/", 1)[0] + "/" + DB_NAME
    with tempfile.TemporaryDirectory(prefix="load-bench-") as temporary:
        work = Path(temporary)
        env = bench_env(database_url, work / "var")
        os.environ.update(env)
        started = time.perf_counter()
        if args.rebuild or not cached(args.server, args.children, args.seed):
            built = setup(args.server, args.children, args.seed, work)
            setup_line = f"built in {built:.0f} s ({built / 60:.1f} min)"
        else:
            import django  # noqa: PLC0415

            django.setup()
            setup_line = f"cached (database {DB_NAME} already built), checked in "
            setup_line += f"{time.perf_counter() - started:.1f} s"
        print(f"setup: {setup_line}")
        accounts = bench_accounts()
        prepare(accounts, children=args.children, seed=args.seed)
        facts = server_facts()
        config = ServerConfig(workers=args.workers, threads=args.threads)
        vus = virtual_users(accounts, args.users, args.seed)
        log = work / "gunicorn.log"
        facts["load_before"] = " ".join(f"{x:.1f}" for x in os.getloadavg())
        with gunicorn(config, env, log) as (base, master):
            logins, phases, probes = asyncio.run(
                drive(
                    base, vus, CpuMeter(master, args.server), seconds=args.seconds,
                    think=args.think, warmup=args.warmup, compare=args.compare,
                    slots=config.workers * config.threads, probe=args.probe,
                )
            )  # fmt: skip
            facts["load_after"] = " ".join(f"{x:.1f}" for x in os.getloadavg())
        print_report(
            args=args, cores=cores, facts=facts, config=config, vus=vus, logins=logins,
            phases=phases, probes=probes, setup_line=setup_line, log=log,
        )  # fmt: skip
        if not verdict(phases[0])[0]:
            sys.exit(1)


def print_report(
    *,
    args: argparse.Namespace, cores: int, facts: dict[str, str], config: ServerConfig,
    vus: list[VirtualUser], logins: list[float], phases: list[Phase], probes: list[Probe],
    setup_line: str, log: Path,
) -> None:  # fmt: skip
    print()
    print(f"== tonghu load bench: {facts['children']} children in PostgreSQL ==")
    print(
        f"machine: {cores} cores ({platform.machine()}), Python {platform.python_version()}, "
        f"Django {_version('django')}, httpx {_version('httpx')}"
    )
    print(
        f"database: PostgreSQL {facts['server_version']} on 127.0.0.1 ({DB_NAME}), "
        f"shared_buffers {facts['shared_buffers']}, work_mem {facts['work_mem']}, "
        f"max_connections {facts['max_connections']}; Django CONN_MAX_AGE "
        f"{facts['conn_max_age']} s (persistent connections, set by database_from_env), "
        f"CONN_HEALTH_CHECKS {facts['conn_health_checks']}"
    )
    print(f"server: {config.describe()}; TONGHU_DEBUG=0, TONGHU_VAR_DIR in a temporary folder")
    roles = Counter(vu.account.role for vu in vus)
    mix = ", ".join(f"{roles[r]} {ROLES[r].label}" for r in ROLES if roles[r])
    print(
        f"client: {len(vus)} virtual users ({mix}), asyncio + httpx over loopback on the same "
        f"machine; each logged in through the login form (own session; API by bearer token)"
    )
    print(
        f"think time: {args.think:g} s mean (uniform {args.think * 0.5:g}-{args.think * 1.5:g} "
        f"s) between a user's requests; {args.seconds:g} s measured per run after "
        f"{args.warmup:g} s of uncounted warm-up"
    )
    print(
        f"machine load average (1/5/15 min): {facts['load_before']} before the server "
        f"started, {facts['load_after']} at the end of the last run (this bench's load "
        f"included; whatever else runs here shares the {cores} cores)"
    )
    print(f"setup: {setup_line}")
    ordered = sorted(logins)
    print(
        f"logins (not counted below): {len(ordered)}, p50 {percentile(ordered, 50) * 1000:.0f} "
        f"ms, max {ordered[-1] * 1000:.0f} ms"
    )
    for phase in phases:
        report_phase(phase, cores)
    if len(phases) > 1:
        side_by_side(phases)
    if probes:
        report_probes(probes, args.probe)
    print()
    print(f"server log: {_server_errors(log)} error lines")
    print(
        f"target (think-time run): p95 < {TARGET_P95_MS:.0f} ms and zero errors: "
        f"{verdict(phases[0])[1]}"
    )


if __name__ == "__main__":
    main()
