"""No ``tonghu`` command ends in a Python traceback: every failure is a Chinese message and a
non-zero exit, ``--traceback`` shows the traceback for developers, and a database that was
never migrated is refused in one line before the command runs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, NoReturn

import django.db
import pytest
from django.db import OperationalError, ProgrammingError

from tonghu.cases.management.commands import escalate
from tonghu.cli import MIGRATE_HINT, SUBCOMMANDS, explain, main

CHINESE = re.compile(r"[\u4e00-\u9fff]")
# The environment a fresh installation under tmp_path must not inherit from the test run.
_OWN_PLACES = ("DATABASE_URL", "TONGHU_VAR_DIR", "TONGHU_KEY_DIR", "TONGHU_FEED_DIR",
               "TONGHU_ROUND_DIR", "TONGHU_EXCHANGE_DIR", "TONGHU_SECRET_KEY")  # fmt: skip
PERSONAL = "张三 410402201001011234"


def bad_arguments(tmp: Path) -> dict[str, list[str]]:
    """For every subcommand, arguments it must refuse (in tmp, which holds ``dir/`` and
    ``garbage.bin``), without writing anything anywhere."""
    dir_, garbage, missing = str(tmp / "dir"), str(tmp / "garbage.bin"), str(tmp / "missing")
    nobody = ["--user", "nobody"]
    return {
        "migrate": ["--bogus"],
        "divisions load": [dir_],
        "demo accounts": [],
        "synth": [garbage, "--as-of", "2025-06-30"],
        "round run": [missing, "--as-of", "2025-06-30", "--export", str(tmp / "out")],
        "services load-list": [dir_, "--county", "410402", "--from", "2025-01-01"],
        "remind": ["--today", "2025-13-01"],
        "escalate": ["--bogus"],
        "stats refresh": ["--county", "12"],
        "keys": ["bogus"],
        "token create": ["nobody"],
        "backup": [garbage],
        "restore": [dir_],
        "exchange keygen": [],
        "exchange trust": [garbage],
        "exchange migrants": ["--for", "410403", "--out", dir_],
        "exchange statuses": ["--for", "410403", "--out", dir_],
        "exchange figures": ["--for", "410400", "--out", dir_],
        "exchange import": [garbage, "--county", "410402"],
        "exchange certify": [*nobody, "--child", "X", "--subject", "孤儿", "--out", dir_],
        "exchange answer": [*nobody, "--request", "X", "--yes", "--reference", "R", "--out", dir_],
        "exchange requests": [],
        "serve": ["--bogus"],
        "check": ["--bogus"],
        "createsuperuser": ["--bogus"],
        "shell": ["--bogus"],
    }


@pytest.fixture
def places(tmp_path: Path) -> Path:
    (tmp_path / "dir").mkdir()
    (tmp_path / "garbage.bin").write_bytes(b"\x00garbage\xff")
    return tmp_path


def fresh_env(var_dir: Path) -> dict[str, str]:
    """A never-migrated SQLite installation under ``var_dir``."""
    env = {key: value for key, value in os.environ.items() if key not in _OWN_PLACES}
    env["TONGHU_VAR_DIR"] = str(var_dir)
    return env


def tonghu(*args: str, var_dir: Path) -> subprocess.CompletedProcess[str]:
    """The installed ``tonghu`` console script."""
    script = Path(sys.executable).with_name("tonghu")
    return subprocess.run(  # noqa: S603 - our own program, fixed arguments
        [str(script), *args],
        env=fresh_env(var_dir), capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip


def test_every_subcommand_has_bad_arguments_to_try(tmp_path: Path) -> None:
    assert set(bad_arguments(tmp_path)) == {" ".join(sub.words) for sub in SUBCOMMANDS}


# --- the console script on a never-migrated database --------------------------------------


def test_a_never_migrated_database_is_refused_in_one_chinese_line(places: Path) -> None:
    (places / "divisions.csv").write_text("code,name,level,parent_code,central_urban\n")
    done = tonghu("divisions", "load", str(places / "divisions.csv"), var_dir=places / "var")
    assert done.returncode == 1
    assert done.stderr == MIGRATE_HINT + "\n"
    assert done.stdout == ""


def test_traceback_anywhere_in_the_command_shows_the_traceback(places: Path) -> None:
    done = tonghu("--traceback", "divisions", "load", str(places / "x.csv"), var_dir=places / "v")
    assert done.returncode == 1
    assert "Traceback (most recent call last)" in done.stderr
    assert done.stderr.endswith(MIGRATE_HINT + "\n")


# Runs main() for each case in one fresh process (one start-up, not one per subcommand) and
# prints what each wrote and its exit status as JSON.
_DRIVER = """
import contextlib, io, json, sys, traceback
from tonghu.cli import main
results = []
for argv in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(argv)
            code = 0
        except SystemExit as exited:
            code = exited.code
        except BaseException:
            traceback.print_exc()
            code = "escaped"
    results.append({"argv": argv, "code": code, "out": out.getvalue(), "err": err.getvalue()})
sys.__stdout__.write(json.dumps(results, ensure_ascii=False))
"""


def test_no_subcommand_shows_a_traceback_on_a_never_migrated_database(places: Path) -> None:
    cases = [[*sub.split(), *args] for sub, args in bad_arguments(places).items()]
    cases.append(["divisions", "load", "--help"])
    done = subprocess.run(  # noqa: S603 - our own program, fixed arguments
        [sys.executable, "-c", _DRIVER, json.dumps(cases)],
        env=fresh_env(places / "var"), capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    results: list[dict[str, Any]] = json.loads(done.stdout)
    *refusals, asked_help = results
    for result in refusals:
        said = result["out"] + result["err"]
        assert "Traceback" not in said, said
        assert result["code"] in {1, 2}, result
        assert CHINESE.search(result["err"]), result
    hinted = {" ".join(r["argv"][:2]) for r in refusals if r["err"] == MIGRATE_HINT + "\n"}
    assert "divisions load" in hinted
    assert "round run" in hinted
    assert "synth" not in hinted
    # --help needs no database
    assert asked_help["code"] == 0
    assert "usage: tonghu divisions_load" in asked_help["out"]


# --- in this process, on the migrated (empty) test database --------------------------------


@pytest.fixture
def in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    # Django closes every connection after a command; the test's transaction must live on.
    monkeypatch.setattr(django.db.connections, "close_all", lambda: None)


def run_main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        main(argv)
    except SystemExit as exited:
        code = exited.code
    else:
        code = 0
    captured = capsys.readouterr()
    assert isinstance(code, int)
    return code, captured.out, captured.err


@pytest.mark.django_db
@pytest.mark.usefixtures("in_process")
def test_no_subcommand_shows_a_traceback_on_an_empty_database(
    places: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for sub, args in bad_arguments(places).items():
        code, out, err = run_main([*sub.split(), *args], capsys)
        assert "Traceback" not in out + err, f"tonghu {sub}:\n{out}{err}"
        assert code in {1, 2}, f"tonghu {sub} exited {code}:\n{out}{err}"
        assert CHINESE.search(err), f"tonghu {sub}: {err}"
        assert MIGRATE_HINT not in err
    assert not list((places / "dir").iterdir())


@pytest.mark.django_db
@pytest.mark.usefixtures("in_process")
def test_a_command_error_is_its_message_once_without_a_class_name(
    places: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_main(["restore", str(places / "dir")], capsys)
    assert code == 1
    assert err == f"{places / 'dir'} 是目录，应为 tonghu backup 写出的备份文件。\n"


@pytest.mark.django_db
@pytest.mark.usefixtures("in_process")
def test_an_argument_error_is_in_chinese_and_names_the_command_as_typed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = run_main(["exchange", "certify", "--user", "u"], capsys)
    assert code == 2
    assert err.startswith("usage: tonghu exchange certify ")
    assert err.endswith(
        "tonghu exchange certify：参数有误：缺少必填参数：--child, --subject, --out\n"
    )


def _raise(error: BaseException) -> Any:
    def handle(*args: Any, **options: Any) -> NoReturn:
        raise error

    return handle


@pytest.mark.django_db
@pytest.mark.usefixtures("in_process")
def test_an_unexpected_error_names_only_its_class(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(escalate.Command, "handle", _raise(ValueError(PERSONAL)))
    code, out, err = run_main(["escalate"], capsys)
    assert code == 1
    assert err == "内部错误：ValueError；加 --traceback 查看详情\n"
    assert out == ""


@pytest.mark.django_db
@pytest.mark.usefixtures("in_process")
def test_traceback_shows_an_unexpected_error_in_full(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(escalate.Command, "handle", _raise(ValueError("boom")))
    code, _, err = run_main(["escalate", "--traceback"], capsys)
    assert code == 1
    assert "Traceback (most recent call last)" in err
    assert "ValueError: boom" in err
    assert err.endswith("内部错误：ValueError\n")


@pytest.mark.django_db
@pytest.mark.usefixtures("in_process")
def test_an_interrupted_command_exits_130(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(escalate.Command, "handle", _raise(KeyboardInterrupt()))
    assert run_main(["escalate"], capsys) == (130, "", "已中断\n")


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("no such table: divisions_division"),
        OperationalError("no such column: rounds_round.store_token"),
        ProgrammingError('relation "divisions_division" does not exist\nLINE 1: SELECT'),
        ProgrammingError("column rounds_round.store_token does not exist"),
    ],
)
def test_a_missing_table_mid_command_is_the_migrate_hint(error: Exception) -> None:
    assert explain(error) == (MIGRATE_HINT, 1)


def test_other_database_errors_and_file_errors_name_no_personal_data(tmp_path: Path) -> None:
    assert explain(OperationalError(f"UNIQUE constraint failed: {PERSONAL}")) == (
        "数据库出错：OperationalError；加 --traceback 查看详情",
        1,
    )
    stored = FileNotFoundError(2, "No such file or directory", f"/var/cases/{PERSONAL}.pdf")
    assert explain(stored, typed=[str(tmp_path)]) == (
        "文件读写失败：文件或目录不存在（FileNotFoundError）；加 --traceback 查看详情",
        1,
    )
    typed = FileExistsError(17, "File exists", str(tmp_path / "out"))
    assert explain(typed, typed=["--export", str(tmp_path)]) == (
        f"文件读写失败：{tmp_path / 'out'}：文件已存在（FileExistsError）；加 --traceback 查看详情",
        1,
    )
