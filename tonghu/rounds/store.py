"""The round store's identity: each round's stored results and its row name the same token.

The store (ROUND_STORE_DIR) keeps one folder of results per completed round, named by the
round's id. Ids are small integers of one database, so two databases sharing one
TONGHU_VAR_DIR, or a database restored without its store, would find another database's
results under the same name. When a round's results are committed, a random token is kept
on its row (Round.store_token) and written beside the results (store.json) in the same
step (tonghu.rounds.services), so that the folder moves into the store with it and a backup
carries both. Whatever reads a round's results opens them through ``open_round_store`` (or
``round_store_file``), which refuses, in Chinese, a folder that is not the round's.

Rounds completed before the token existed have none (an empty ``store_token``). Their folder
is still accepted if it has no store.json and its summary.json equals the summary the row
kept: the summary holds each batch step's timing to the millisecond, so it names one run.
Nothing is written for them (no migration touches the store): the next run of the county's
round gives it a token like any other.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings

from tonghu.pipeline.errors import RoundError
from tonghu.pipeline.round import RESULT_FILES, SUMMARY_FILE

if TYPE_CHECKING:
    from tonghu.rounds.models import Round

STORE_FILE = "store.json"  # in a round's folder: {"round": id, "token": token}
_ADVICE = "请重新运行该轮，或恢复包含结果文件的完整备份。"


class RoundStoreError(RoundError):
    """A round's stored results are missing or are not this round's (the message is Chinese)."""


def store_root() -> Path:
    return Path(settings.ROUND_STORE_DIR)


def store_folder(round_: Round) -> Path:
    """Where the round's results go. Unchecked: readers use ``open_round_store``."""
    return store_root() / str(round_.pk)


def store_token_new() -> str:
    return uuid.uuid4().hex


def store_mark(folder: Path, *, round_id: int, token: str) -> None:
    """Write the identity of the round whose results are in ``folder``."""
    text = json.dumps({"round": round_id, "token": token})
    partial = folder / f".{STORE_FILE}.tmp"
    partial.write_text(text, encoding="utf-8")
    partial.replace(folder / STORE_FILE)


def store_token_in(folder: Path) -> str | None:
    """The token written in ``folder`` (None: none, or unreadable)."""
    data = _json(folder / STORE_FILE)
    token = data.get("token") if isinstance(data, dict) else None
    return token if isinstance(token, str) and token else None


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _missing(round_: Round) -> RoundStoreError:
    return RoundStoreError(
        f"监测摸排轮次“{round_}”的结果文件缺失（可能恢复数据库时未带结果文件），{_ADVICE}"
    )


def _foreign(round_: Round) -> RoundStoreError:
    return RoundStoreError(
        f"监测摸排轮次“{round_}”的结果文件与数据库不一致（可能来自共用同一数据目录的另一个"
        f"数据库，或恢复数据库时未带结果文件），{_ADVICE}"
    )


def _check(round_: Round, folder: Path) -> RoundStoreError | None:
    if not folder.is_dir():
        return _missing(round_)
    found = store_token_in(folder)
    if round_.store_token:
        return None if found == round_.store_token else _foreign(round_)
    # A round kept before tokens: its own summary, and no other round's token.
    if (folder / STORE_FILE).exists() or not round_.summary:
        return _foreign(round_)
    return None if _json(folder / SUMMARY_FILE) == round_.summary else _foreign(round_)


def open_round_store(round_: Round) -> Path:
    """The folder of the round's stored results, after checking that they are this round's.

    Raises RoundStoreError (a RoundError, in Chinese) if the folder is missing or holds
    another round's results: another database's sharing the same var folder, or a store
    left from before a restore that did not bring its files."""
    folder = store_folder(round_)
    error = _check(round_, folder)
    if error is not None:
        raise error
    return folder


def round_store_file(round_: Round, name: str) -> Path:
    """One result file of the round (a key of RESULT_FILES), checked like the folder."""
    path = open_round_store(round_) / RESULT_FILES[name]
    if not path.is_file():
        raise _missing(round_)
    return path


def round_store_ok(round_: Round) -> bool:
    """Whether the round's stored results are there and its own."""
    return _check(round_, store_folder(round_)) is None
