from __future__ import annotations

import pytest

from tonghu.cli import SUBCOMMANDS, main, resolve


def test_two_word_subcommands_map_to_management_commands() -> None:
    assert resolve(["divisions", "load", "a.csv"]) == ("divisions_load", ["a.csv"])
    assert resolve(["demo", "accounts", "--reset-passwords"]) == (
        "demo_accounts",
        ["--reset-passwords"],
    )
    assert resolve(["serve", "127.0.0.1:8000"]) == ("runserver", ["127.0.0.1:8000"])
    assert resolve(["divisions"]) is None


def test_help_lists_every_subcommand_in_chinese(capsys: pytest.CaptureFixture[str]) -> None:
    main(["--help"])
    out = capsys.readouterr().out
    assert out.startswith("用法：tonghu")
    for sub in SUBCOMMANDS:
        assert " ".join(sub.words) in out
        assert sub.help in out


def test_an_unknown_subcommand_exits_2_with_a_chinese_message(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["rounds", "go"])
    assert exited.value.code == 2
    assert "未知的子命令：rounds go" in capsys.readouterr().err
