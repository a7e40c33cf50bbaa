"""The ``synth`` management command (the only Django-facing part; no database needed) and
the library's independence from Django."""

from __future__ import annotations

import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command


def test_command_writes_a_county_and_a_chinese_summary(tmp_path: Path) -> None:
    out = StringIO()
    call_command("synth", str(tmp_path / "c"), "--children", "300", "--as-of", "2025-06-30",
                 stdout=out, stderr=StringIO())  # fmt: skip
    text = out.getvalue()
    assert "已生成合成县：300 名儿童" in text
    assert "流动儿童" in text
    assert (tmp_path / "c" / "divisions.csv").is_file()
    assert (tmp_path / "c" / "truth" / "children.csv").is_file()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--children", "abc", "--as-of", "2025-06-30"], "应为整数"),
        (["--children", "10", "--as-of", "2025-06-30"], "儿童人数应在"),
        (["--as-of", "2025/06/30"], "YYYY-MM-DD"),
        (["--as-of", "2025-02-30"], "有效日期"),
        ([], "--as-of"),
        (["--seed", "-3", "--as-of", "2025-06-30"], "随机种子"),
    ],
)
def test_command_refuses_bad_options(tmp_path: Path, arguments: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("synth", str(tmp_path / "c"), *arguments, stdout=StringIO(), stderr=StringIO())


def test_command_takes_noise_settings_and_writes_a_next_round(tmp_path: Path) -> None:
    out = StringIO()
    call_command("synth", str(tmp_path / "r1"), "--children", "60", "--as-of", "2025-06-30",
                 "--noise", "boundary_cases=0,name_swap=0.1，key_reuse=2%",
                 stdout=out, stderr=StringIO())  # fmt: skip
    text = out.getvalue()
    assert "已生成合成县：60 名儿童" in text
    assert "干扰设置：boundary_cases=0，name_swap=0.1，key_reuse=0.02" in text
    out = StringIO()
    call_command("synth", str(tmp_path / "r2"), "--next-of", str(tmp_path / "r1"),
                 "--as-of", "2025-12-31", "--arrive-share", "0.1", "--reissue", "none",
                 stdout=out, stderr=StringIO())  # fmt: skip
    text = out.getvalue()
    assert "第 2 轮" in text
    assert "本轮新迁入儿童 6 名" in text
    assert "干扰设置：boundary_cases=0，name_swap=0.1，key_reuse=0.02" in text
    assert (tmp_path / "r2" / "truth" / "synth.json").is_file()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--noise", "nonsense=1"], "未知的干扰设置：nonsense"),
        (["--noise", "twins=2"], "应在 0 到 1 之间"),
        (["--noise", "twins"], "名称=数值"),
        (["--children", "100"], "boundary_cases=0"),
        (["--next-of", "PREVIOUS", "--children", "300"], "不能指定 --children"),
        (["--next-of", "PREVIOUS", "--leave-share", "2"], "--leave-share"),
        (["--next-of", "PREVIOUS", "--reissue", "nothing"], "未知的数据来源"),
        (["--next-of", "PREVIOUS"], "synth.json"),
    ],
)
def test_command_refuses_bad_settings(tmp_path: Path, arguments: list[str], message: str) -> None:
    arguments = [str(tmp_path) if a == "PREVIOUS" else a for a in arguments]
    with pytest.raises(CommandError, match=message):
        call_command("synth", str(tmp_path / "c"), "--as-of", "2025-06-30", *arguments,
                     stdout=StringIO(), stderr=StringIO())  # fmt: skip


def test_command_refuses_a_folder_in_use(tmp_path: Path) -> None:
    (tmp_path / "old.csv").write_text("x", encoding="utf-8")
    with pytest.raises(CommandError, match="不为空"):
        call_command("synth", str(tmp_path), "--as-of", "2025-06-30", stdout=StringIO())


def test_library_does_not_import_django() -> None:
    code = (
        "import sys, tonghu.synth, tonghu.synth.worker; "
        "sys.exit(any(m == 'django' or m.startswith('django.') for m in sys.modules))"
    )
    subprocess.run([sys.executable, "-c", code], check=True)  # noqa: S603 - fixed arguments
