"""Visits written as feed rows (feeds.md ``visit_survey``; a family's hardship noted at a
visit as a ``self_declaration``), so rounds and re-classification read them like any feed.

Each row is pinned to its child: ``pins`` tells the round which child a row belongs to.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable
from pathlib import Path

from tonghu.children.models import Child
from tonghu.pipeline.read import FeedFile
from tonghu.pipeline.sources import SOURCES
from tonghu.visits.models import Visit

SOURCE_BY_NAME = {source.name: source for source in SOURCES}
FILE_STEM = "tonghu_visits"  # after the source name: visit_survey_tonghu_visits.csv


def record_key(visit: Visit) -> str:
    return f"TV{visit.token.hex[:20]}"


def _yes(flag: bool) -> str:
    return "是" if flag else "否"


def _day(value: dt.date | None) -> str:
    return value.isoformat() if value else ""


def _identity(child: Child) -> dict[str, str]:
    return {
        "name": child.name,
        "sex": child.sex,
        "id_number": child.id_number,
        "birth_date": _day(child.birth_date),
        "residence_code": child.residence_code or child.residence_division_id,
        "hukou_code": child.hukou_code,
    }


def _survey_row(visit: Visit) -> dict[str, str]:
    return {
        **_identity(visit.child),
        "record_key": record_key(visit),
        "father_status": visit.father_status,
        "father_away_code": visit.father_away_code,
        "father_away_since": _day(visit.father_away_since),
        "mother_status": visit.mother_status,
        "mother_away_code": visit.mother_away_code,
        "mother_away_since": _day(visit.mother_away_since),
        "actual_guardian": visit.actual_guardian,
        "guardianship_type": visit.guardianship_type,
        "entrusted_carer": visit.entrusted_carer,
        "disabled": _yes(visit.disabled),
        "psych": _yes(visit.psych),
        "vagrant": _yes(visit.vagrant),
        "lives_alone": _yes(visit.lives_alone),
        "visited_on": visit.visited_on.isoformat(),
        "visitor": visit.visited_by.username,
    }


def _declaration_row(visit: Visit) -> dict[str, str]:
    return {
        **_identity(visit.child),
        "record_key": record_key(visit),
        "hardship": "是",
        "declared_on": visit.visited_on.isoformat(),
    }


def write_visit_feeds(
    visits: Iterable[Visit], folder: Path
) -> tuple[list[FeedFile], dict[str, str]]:
    """Write the visits as feed files in ``folder``; returns the files and the pins
    (record id ``source|key`` → child id). Visits must come with child and visited_by."""
    folder.mkdir(parents=True, exist_ok=True)
    rows: dict[str, list[dict[str, str]]] = {"visit_survey": [], "self_declaration": []}
    pins: dict[str, str] = {}
    for visit in visits:
        rows["visit_survey"].append(_survey_row(visit))
        pins[f"visit_survey|{record_key(visit)}"] = visit.child.child_id
        if visit.hardship:
            rows["self_declaration"].append(_declaration_row(visit))
            pins[f"self_declaration|{record_key(visit)}"] = visit.child.child_id
    files = []
    for name, found in rows.items():
        if not found:
            continue
        source = SOURCE_BY_NAME[name]
        path = folder / f"{name}_{FILE_STEM}.csv"
        with path.open("w", encoding="utf-8", newline="") as sink:
            writer = csv.writer(sink)
            writer.writerow([column.header for column in source.columns])
            for row in found:
                writer.writerow([row.get(column.field, "") for column in source.columns])
        files.append(FeedFile(path=path, source=source))
    return files, pins
