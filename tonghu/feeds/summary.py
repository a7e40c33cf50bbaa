"""An import's counts in the words a data clerk reads them."""

from __future__ import annotations

from dataclasses import dataclass

from tonghu.feeds.models import FeedImport
from tonghu.pipeline.codes import REJECT_REASONS, WARNINGS
from tonghu.pipeline.sources import SOURCES_BY_NAME


@dataclass(frozen=True)
class CountLine:
    label: str
    count: int


@dataclass(frozen=True)
class ImportSummary:
    feed_import: FeedImport
    source_label: str
    rejected: list[CountLine]
    warnings: list[CountLine]


def import_summary(feed_import: FeedImport) -> ImportSummary:
    rejected: dict[str, int] = {}
    warnings: dict[str, int] = {}
    for part in feed_import.parts:
        for code, count in part["rejected"].items():
            rejected[code] = rejected.get(code, 0) + count
        for code, count in part["warnings"].items():
            warnings[code] = warnings.get(code, 0) + count
    return ImportSummary(
        feed_import=feed_import,
        source_label=SOURCES_BY_NAME[feed_import.source].label,
        rejected=[CountLine(REJECT_REASONS.get(c, c), n) for c, n in sorted(rejected.items())],
        warnings=[CountLine(WARNINGS.get(c, c), n) for c, n in sorted(warnings.items())],
    )
