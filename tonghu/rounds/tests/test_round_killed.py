"""A round killed at each of its steps (the real process, by SIGKILL) leaves the database as it
was and can be run again, with the result of a round never interrupted (issue 10, point 5).

A county with one completed round is built once per database engine in a real database that
other processes see (an SQLite file, or a PostgreSQL database of its own) with its var folder
(round store, keys). Each case works on a copy: ``tonghu round run`` runs in a subprocess with
TONGHU_KILL_AT naming the point where it kills itself (tonghu.pipeline.round.kill_point), again
and again, one point further each time; after each kill every table is compared with the
copy's. The last run goes to the end, and its ledger is compared, by natural keys, with that
of a round run without interruption (ids may differ on PostgreSQL, whose sequences a
rolled-back transaction still advances).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import urlsplit, urlunsplit

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.db import models

from tonghu.alerts.models import Alert, Source
from tonghu.audit.models import AuditEntry
from tonghu.children.models import Child
from tonghu.pipeline.round import KILL_AT, STEPS
from tonghu.privacy import crypto
from tonghu.rounds.models import Round
from tonghu.rounds.store import store_token_in

AS_OF = "2025-06-30"
LATER = "2025-12-31"
# Where a round is killed, in sequences: each run after a kill is killed at the next point
# (so it must get past the last one), then run to its end. Before the commit of the load
# transaction: the start of each batch step, then within the transaction.
BEFORE_COMMIT = (*STEPS, "load", "load.begin", "load.rows", "load.commit")
# After it: the round is kept; the next run moves its results into the store, then exports.
AFTER_COMMIT = ("store.swap", "export")
# The first round run again on changed feeds: its earlier results are in the store already.
AGAIN = ("load.rows", "store.half")
KILLED = -signal.SIGKILL
EXPORTS = ("links.csv", "children.csv", "services.csv", "rejects.csv")

# What differs between two runs of the same round: step timings, splink's random linker id.
VARYING = {"summary": "timings", "model_json": "linker_uid"}
# ...and the random token naming its results (compared with the store instead: State.foreign).
UNCOMPARED = {"store_token"}

Digests = dict[str, str]
Rows = dict[str, list[str]]


def _postgres_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "").strip()
    return url if url.startswith(("postgres://", "postgresql://")) else None


def _digest(lines: list[str]) -> str:
    return f"{len(lines)}:{hashlib.sha256(chr(10).join(sorted(lines)).encode()).hexdigest()}"


class Database:
    """The database the county's ``tonghu`` processes work on, and a kept copy of it."""

    def url(self) -> str | None:
        """DATABASE_URL for the processes (None: the SQLite file in their var folder)."""
        raise NotImplementedError

    @contextmanager
    def connect(self, var: Path) -> Iterator[Any]:
        raise NotImplementedError
        yield

    def tables(self, con: Any) -> list[str]:
        raise NotImplementedError

    def create(self) -> None:
        """An empty database for the county (PostgreSQL: its own database)."""

    def restore(self) -> None:
        """The working database again as the county was built (the var folder is copied)."""

    def drop(self) -> None:
        pass


class SQLite(Database):
    def url(self) -> str | None:
        return None

    @contextmanager
    def connect(self, var: Path) -> Iterator[Any]:
        with closing(sqlite3.connect(var / "tonghu.sqlite3")) as con:
            yield con

    def tables(self, con: Any) -> list[str]:
        found = con.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        return [name for (name,) in found]


class Postgres(Database):
    """Databases of their own beside the test database: NAME_killed_base, built once, and
    NAME_killed, made from it (CREATE DATABASE ... TEMPLATE) for each case."""

    def __init__(self, url: str) -> None:
        import psycopg  # noqa: PLC0415  (only where PostgreSQL is there)

        self.psycopg = psycopg
        parts = urlsplit(url)
        name = parts.path.lstrip("/") or "postgres"
        self.base, self.work = f"{name}_killed_base", f"{name}_killed"
        self.server = parts._replace(path="/postgres")
        self.name = self.base

    def _at(self, name: str) -> str:
        return urlunsplit(self.server._replace(path=f"/{name}"))

    def url(self) -> str | None:
        return self._at(self.name)

    @contextmanager
    def connect(self, var: Path) -> Iterator[Any]:
        with self.psycopg.connect(self._at(self.name)) as con:
            yield con

    def tables(self, con: Any) -> list[str]:
        found = con.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        )
        return [name for (name,) in found]

    def _admin(self, *statements: str) -> None:
        with self.psycopg.connect(self._at("postgres"), autocommit=True) as con:
            for statement in statements:
                con.execute(statement)

    def create(self) -> None:
        self.drop()
        self._admin(f'CREATE DATABASE "{self.base}"')

    def restore(self) -> None:
        self._admin(
            f'DROP DATABASE IF EXISTS "{self.work}" WITH (FORCE)',
            f'CREATE DATABASE "{self.work}" TEMPLATE "{self.base}"',
        )
        self.name = self.work

    def drop(self) -> None:
        self._admin(
            f'DROP DATABASE IF EXISTS "{self.work}" WITH (FORCE)',
            f'DROP DATABASE IF EXISTS "{self.base}" WITH (FORCE)',
        )


@dataclass
class State:
    tables: Digests  # every table, raw: the database exactly as it is
    ledger: Rows  # every model's rows by natural keys, without ids and timestamps
    store: Digests  # every file of the round store's data folders (not its dot-folders)
    leftovers: list[str]  # the dot-folders in the round store (work folders of rounds)
    foreign: list[str]  # completed rounds whose store folder does not carry their token
    exported: Digests = field(default_factory=dict)


@dataclass
class County:
    """One completed round (AS_OF) on a database engine, and how to work on a copy of it."""

    db: Database
    root: Path
    feeds: Path
    env: dict[str, str]
    keys: str
    base: State = field(init=False)
    references: dict[tuple[str, str], State] = field(default_factory=dict)
    cases: int = 0

    @property
    def base_var(self) -> Path:
        return self.root / "base"

    def tonghu(
        self, var: Path, *args: str, kill_at: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        env = {**self.env, "TONGHU_VAR_DIR": str(var), "TMPDIR": str(var / "tmp")}
        (var / "tmp").mkdir(parents=True, exist_ok=True)
        if (url := self.db.url()) is not None:
            env["DATABASE_URL"] = url
        if kill_at is not None:
            env[KILL_AT] = kill_at
        return subprocess.run(  # noqa: S603  (this interpreter, our own arguments)
            [sys.executable, "-m", "tonghu", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )

    def copy(self) -> Path:
        """A fresh copy of the county: its database and var folder."""
        self.cases += 1
        var = self.root / f"case-{self.cases}"
        shutil.copytree(self.base_var, var)
        self.db.restore()
        return var

    def state(self, var: Path, out: Path | None = None) -> State:
        with self.db.connect(var) as con:
            tables = {name: _table(con, name) for name in self.db.tables(con)}
            rounds = _rounds(con)
            tokens = _tokens(con, rounds)
            with mock.patch.dict(os.environ, {"TONGHU_FIELD_KEYS": self.keys}):
                ledger = _ledger(con, set(tables), rounds)
        store = var / "rounds"
        files = [path.relative_to(store) for path in sorted(store.rglob("*")) if path.is_file()]
        return State(
            tables=tables,
            ledger=ledger,
            # Named by the round's county and date: its id may differ on PostgreSQL.
            store={
                "/".join((rounds.get(int(path.parts[0]), path.parts[0]), *path.parts[1:])): (
                    _file_digest(store / path)
                )
                for path in files
                if not path.parts[0].startswith(".")
            },
            leftovers=sorted(path.name for path in store.iterdir() if path.name.startswith(".")),
            foreign=sorted(
                name
                for pk, (name, token) in tokens.items()
                if store_token_in(store / str(pk)) != token
            ),
            exported=_exported(out) if out is not None else {},
        )

    def reference(self, feeds: Path, as_of: str) -> State:
        """The state after running the round once, uninterrupted, on a copy of the county."""
        key = (str(feeds), as_of)
        if key not in self.references:
            var = self.copy()
            done = self.tonghu(var, *_round(feeds, as_of, var / "out"))
            assert done.returncode == 0, done.stderr
            self.references[key] = self.state(var, var / "out")
        return self.references[key]


def _table(con: Any, name: str) -> str:
    rows = con.execute(f'SELECT * FROM "{name}"').fetchall()  # noqa: S608  (a table's name)
    return _digest([repr(tuple(_raw(value) for value in row)) for row in rows])


def _raw(value: object) -> object:
    return bytes(value) if isinstance(value, memoryview) else value


def _rounds(con: Any) -> dict[Any, str]:
    table = Round._meta.db_table
    found = con.execute(f'SELECT id, county_id, as_of FROM "{table}"').fetchall()  # noqa: S608
    return {pk: f"{county}@{as_of}" for pk, county, as_of in found}


def _tokens(con: Any, rounds: dict[Any, str]) -> dict[Any, tuple[str, str]]:
    """Each completed round's natural key and store token, by its id."""
    table = Round._meta.db_table
    found = con.execute(
        f"SELECT id, store_token FROM \"{table}\" WHERE status = 'done'"  # noqa: S608
    ).fetchall()
    return {pk: (rounds[pk], token) for pk, token in found}


def _ledger(con: Any, tables: set[str], rounds: dict[Any, str]) -> Rows:
    """Every model's rows with ids and timestamps left out and references to rounds and
    children by their natural keys; sealed values opened (sealing is randomised)."""
    table = Child._meta.db_table
    children = dict(con.execute(f'SELECT id, child_id FROM "{table}"').fetchall())  # noqa: S608
    natural: dict[type[models.Model], dict[Any, str]] = {Round: rounds, Child: children}
    ledger: Rows = {}
    for model in apps.get_models():
        table = model._meta.db_table
        if table not in tables:
            continue
        fields = [
            item
            for item in model._meta.concrete_fields
            if not isinstance(item, models.DateTimeField)
            and not (item.primary_key and isinstance(item, models.AutoField | models.BigAutoField))
            and not (model is Round and item.name in UNCOMPARED)
        ]
        columns = ", ".join(f'"{item.column}"' for item in fields)
        lines = []
        rows = con.execute(f'SELECT {columns} FROM "{table}"').fetchall()  # noqa: S608 (names)
        for row in rows:
            values: dict[str, Any] = {}
            for item, value in zip(fields, row, strict=True):
                plain = _plain(item, value)
                if item.is_relation and item.related_model in natural:
                    plain = natural[item.related_model].get(value, value)
                elif table == Round._meta.db_table and item.name in VARYING:
                    plain = _without(plain, VARYING[item.name])
                values[item.name] = _rounded(plain)
            lines.append(repr(_ids_as_text(model, values, rounds)))
        ledger[model._meta.label] = sorted(lines)
    return ledger


def _ids_as_text(model: type[models.Model], row: dict[str, Any], rounds: dict[Any, str]) -> Any:
    """Ids kept as text: a round's by its natural key; others (an audit entry's alerts) only
    counted, as PostgreSQL numbers them from sequences a killed round advanced."""
    by_text = {str(pk): name for pk, name in rounds.items()}
    if model is AuditEntry:
        ids = row["object_ids"]
        round_ids = row["object_type"] == "round"
        row["object_ids"] = [by_text[str(pk)] for pk in ids] if round_ids else len(ids)
    elif model is Alert and row["source"] == Source.ROUND:
        row["source_ref"] = by_text[row["source_ref"]]
    return row


def _without(value: Any, key: str) -> Any:
    parsed = json.loads(value) if isinstance(value, str) else value
    return {name: part for name, part in parsed.items() if name != key}


def _rounded(value: Any) -> Any:
    """Floats to 9 significant digits: the trained model's parameters (and so the scores)
    come from DuckDB's parallel sums, whose last bits depend on how the threads were
    scheduled (seen only on a busy machine); children, links and decisions compare exactly."""
    if isinstance(value, float):
        return float(f"{value:.9g}")
    if isinstance(value, dict):
        return {key: _rounded(part) for key, part in value.items()}
    if isinstance(value, list):
        return [_rounded(part) for part in value]
    return value


def _plain(item: models.Field[Any, Any], value: Any) -> Any:
    if isinstance(item, models.JSONField) and isinstance(value, str):
        value = json.loads(value)
    return _opened(_raw(value))


def _opened(value: Any) -> Any:
    if isinstance(value, str) and crypto.is_sealed(value):
        return crypto.unseal(value)
    if isinstance(value, dict):
        return {key: _opened(part) for key, part in sorted(value.items())}
    if isinstance(value, list):
        return [_opened(part) for part in value]
    return value


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _exported(out: Path) -> Digests:
    found = {name: _file_digest(out / name) for name in EXPORTS if (out / name).exists()}
    if (out / "summary.json").exists():
        summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        summary.pop("timings", None)
        found["summary.json"] = json.dumps(summary, sort_keys=True, ensure_ascii=False)
    return found


def _round(feeds: Path, as_of: str, out: Path) -> tuple[str, ...]:
    return ("round", "run", str(feeds), "--as-of", as_of, "--export", str(out))


def _unlike(ledger: Rows, expected: Rows) -> str:
    """Nothing if the ledgers are alike, else each model's count and first differing rows."""
    notes = []
    for name in sorted(ledger.keys() | expected.keys()):
        rows, wanted = ledger.get(name, []), expected.get(name, [])
        if rows != wanted:
            extra, missing = sorted(set(rows) - set(wanted)), sorted(set(wanted) - set(rows))
            notes.append(
                f"{name}: {len(rows)} rows, {len(wanted)} expected; "
                f"unexpected {extra[:3]}; missing {missing[:3]}"
            )
            if extra and missing:  # where the first two differ, said exactly
                notes.append(_where(extra[0], missing[0]))
    return "\n".join(notes)


def _where(row: str, wanted: str) -> str:
    """The characters around the first place two row texts differ."""
    at = next(
        (index for index, (a, b) in enumerate(zip(row, wanted, strict=False)) if a != b),
        min(len(row), len(wanted)),
    )
    return (
        f"  first difference at {at}: {row[at - 80 : at + 80]!r} vs {wanted[at - 80 : at + 80]!r}"
    )


def _differing(left: Digests, right: Digests) -> list[str]:
    return sorted(key for key in left.keys() | right.keys() if left.get(key) != right.get(key))


_SETUP = """
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
call_command("divisions_load", {divisions!r}, verbosity=0)
call_command("round_run", {feeds!r}, as_of={as_of!r}, export={out!r})
"""


def _subprocess_env(tmp_path_factory: pytest.TempPathFactory, keys: str) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("TONGHU_") and name != "DATABASE_URL"
    }
    env["DJANGO_SETTINGS_MODULE"] = "tonghu.config.settings"
    env["TONGHU_FIELD_KEYS"] = keys  # the same keys for every process and for the test
    if env.pop("PYTHONDONTWRITEBYTECODE", None):
        # Some dozens of processes import the whole app: compile it once, outside the tree.
        env["PYTHONPYCACHEPREFIX"] = str(tmp_path_factory.getbasetemp() / "pycache")
    return env


ENGINES = [
    pytest.param(
        "sqlite",
        marks=pytest.mark.skipif(
            _postgres_url() is not None, reason="SQLite: run with the SQLite suite"
        ),
    ),
    pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(_postgres_url() is None, reason="DATABASE_URL is not PostgreSQL"),
    ),
]


@pytest.fixture(scope="module", params=ENGINES)
def county(
    request: pytest.FixtureRequest,
    synthetic_county: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[County]:
    url = _postgres_url()
    db: Database = Postgres(url) if request.param == "postgresql" and url else SQLite()
    keys = Fernet.generate_key().decode()
    built = County(
        db=db,
        root=tmp_path_factory.mktemp(f"killed-{request.param}"),
        feeds=synthetic_county / "feeds",
        env=_subprocess_env(tmp_path_factory, keys),
        keys=keys,
    )
    db.create()
    try:
        setup = _SETUP.format(
            divisions=str(synthetic_county / "divisions.csv"),
            feeds=str(built.feeds),
            as_of=AS_OF,
            out=str(built.root / "first"),
        )
        done = built.tonghu(built.base_var, "shell", "-c", setup)
        assert done.returncode == 0, done.stderr
        built.base = built.state(built.base_var)
        yield built
    finally:
        db.drop()


@pytest.fixture(scope="module")
def changed_feeds(synthetic_county: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The county's feeds less one file: the first round run again gives other results."""
    feeds = tmp_path_factory.mktemp("changed") / "feeds"
    shutil.copytree(synthetic_county / "feeds", feeds)
    (feeds / "disability_cert.csv").unlink()
    return feeds


@pytest.mark.parametrize(
    ("again", "points"),
    [
        pytest.param(False, BEFORE_COMMIT, id="before-commit"),
        pytest.param(False, AFTER_COMMIT, id="after-commit"),
        pytest.param(True, AGAIN, id="run-again"),
    ],
)
def test_a_round_killed_at_each_step_leaves_the_database_as_it_was_and_runs_again(
    county: County, changed_feeds: Path, again: bool, points: tuple[str, ...]
) -> None:
    """The next round (or the first one again, on changed feeds) killed at each point in
    turn: until its commit nothing of it is in the database and the store is as it was;
    after, the round is kept as if it had not been killed. Run once more, it ends as a
    round never interrupted does, leaving no work folder behind."""
    feeds, as_of = (changed_feeds, AS_OF) if again else (county.feeds, LATER)
    reference = county.reference(feeds, as_of)
    var = county.copy()
    out = var / "out"
    command = _round(feeds, as_of, out)
    committed = False
    for point in points:
        killed = county.tonghu(var, *command, kill_at=point)
        assert killed.returncode == KILLED, f"{point}: {killed.returncode}\n{killed.stderr}"
        # Its scratch files are in its work folder in the store, which the next run clears.
        scratch = [path.name for path in (var / "tmp").iterdir() if "tonghu" in path.name]
        assert scratch == [], point
        after = county.state(var, out)
        committed = committed or point not in BEFORE_COMMIT
        if committed:
            unlike = _unlike(after.ledger, reference.ledger)
            assert not unlike, f"{point}\n{unlike}"
        else:
            assert _differing(after.tables, county.base.tables) == [], point
            assert after.store == county.base.store, point
            assert after.exported == {}, point
        if point == "export":  # the run before it moved the results into the store
            assert sorted(after.store) == sorted(reference.store), point
    done = county.tonghu(var, *command)
    assert done.returncode == 0, done.stderr
    after = county.state(var, out)
    unlike = _unlike(after.ledger, reference.ledger)
    assert not unlike, unlike
    assert sorted(after.store) == sorted(reference.store)
    assert after.leftovers == []
    assert after.foreign == []  # every round's results carry the token its row holds
    assert after.exported == reference.exported
    if not again:  # the previous round's results untouched
        assert {name: after.store[name] for name in county.base.store} == county.base.store
