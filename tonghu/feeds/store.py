"""Where a round's feed rows live: one folder per import under the feed store.

Only folders named by a committed FeedImport row belong to a round; anything else (a
crashed import's leftovers) is never read.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from django.conf import settings

from tonghu.feeds.models import FeedImport
from tonghu.pipeline.ingest import RECORDS_FILE, REJECTS_FILE
from tonghu.rounds.models import Round


def store_root() -> Path:
    root: Path = settings.FEED_STORE_DIR
    root.mkdir(parents=True, exist_ok=True)
    return root


def new_import_dir(round_: Round) -> str:
    """A fresh folder name (relative to the store) for one import of ``round_``."""
    return f"round-{round_.pk}/{uuid.uuid4().hex}"


def import_dir(feed_import: FeedImport) -> Path:
    return store_root() / feed_import.store_dir


def round_files(round_: Round) -> tuple[list[Path], list[Path]]:
    """The record and reject files of every import the round holds so far."""
    folders = [store_root() / d for d in round_.imports.values_list("store_dir", flat=True)]
    return [f / RECORDS_FILE for f in folders], [f / REJECTS_FILE for f in folders]
