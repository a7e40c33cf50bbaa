"""Round figures a county sends up to its city's or province's own instance (kind ``figures``).

Each county keeps its children in its own database; the city or province instance receives,
in signed and encrypted packages, only the figures the dashboard and the standard tables add
up: the county's division table, each completed round's summed figures (RoundFigure), the
live counters (LiveFigure) and the daily figures (DailyFigure). Importing a county's package
replaces what an earlier one brought; the counties' rounds then show on the city's or
province's dashboard like its own. No child's name, ID number or file leaves the county.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from tonghu.accounts.scope import within
from tonghu.divisions.codes import LEVEL_ORDER, pad
from tonghu.divisions.models import Division
from tonghu.exchange.models import ExchangePackage, ReceivedRound
from tonghu.exchange.packages import Opened, PackageError
from tonghu.rounds.models import Round, RoundStatus
from tonghu.stats.models import DailyFigure, LiveFigure, RoundFigure

# Each row names its table; the keys each table's rows carry (all required).
TABLES: dict[str, tuple[str, ...]] = {
    "division": ("code", "name", "level", "parent"),
    "round": ("as_of", "summary", "completed_at"),
    "round_figure": ("as_of", "level", "division_code", "group", "dimension", "category", "n"),
    "live_figure": ("division_code", "measure", "category", "month", "n"),
    "daily_figure": ("division_code", "measure", "category", "n", "computed_on"),
}
_BATCH = 5_000


def superiors(county: str) -> tuple[str, str]:
    """The 6-digit codes of the county's city and province, the only recipients of its
    figures."""
    return county[:4] + "00", county[:2] + "0000"


# --- the county's side ----------------------------------------------------------------------


def figures_rows(county: str) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Everything the county reports upward, as package rows, and a summary of counts."""
    rounds = list(
        Round.objects.filter(county_id=pad(county), status=RoundStatus.DONE).order_by("as_of")
    )
    if not rounds:
        raise PackageError("本县还没有完成的监测摸排轮次，无统计数据可报送")
    rows: list[dict[str, Any]] = list(_division_rows(county))
    figures = 0
    for round_ in rounds:
        rows.append(
            {
                "table": "round",
                "as_of": round_.as_of.isoformat(),
                "summary": round_.summary,
                "completed_at": round_.completed_at.isoformat() if round_.completed_at else "",
            }
        )
        for values in RoundFigure.objects.filter(round=round_).values(
            "level", "division_code", "group", "dimension", "category", "n"
        ):
            rows.append({"table": "round_figure", "as_of": round_.as_of.isoformat(), **values})
            figures += 1
    live = LiveFigure.objects.filter(within("division_code", county)).values(
        "division_code", "measure", "category", "month", "n"
    )
    rows.extend(
        {"table": "live_figure", **values, "month": values["month"].isoformat()} for values in live
    )
    daily = DailyFigure.objects.filter(county_code=county).values(
        "division_code", "measure", "category", "n", "computed_on"
    )
    rows.extend(
        {"table": "daily_figure", **values, "computed_on": values["computed_on"].isoformat()}
        for values in daily
    )
    return rows, {"rounds": len(rounds), "round_figures": figures}


def _division_rows(county: str) -> Iterable[dict[str, Any]]:
    """The county's own divisions and those above it, so the city can name and drill down."""
    above = [pad(code) for code in superiors(county)]
    divisions = Division.objects.filter(within("code", county)) | Division.objects.filter(
        code__in=above
    )
    for division in divisions.order_by("code"):
        yield {
            "table": "division",
            "code": division.code,
            "name": division.name,
            "level": division.level,
            "parent": division.parent_id or "",
        }


# --- the city's or province's side ----------------------------------------------------------


def figures_check(opened: Opened) -> None:
    """Every row names a known table and carries its keys; refused whole otherwise."""
    county = opened.header.sender
    for number, row in enumerate(opened.rows, start=1):
        keys = TABLES.get(str(row.get("table")))
        if keys is None:
            raise PackageError(f"交换包第 {number} 行的表名不认识，拒绝导入")
        missing = [key for key in keys if key not in row]
        if missing:
            raise PackageError(f"交换包第 {number} 行缺少 {missing[0]}，拒绝导入")
        if "division_code" in keys and not str(row["division_code"]).startswith(county):
            raise PackageError(f"交换包第 {number} 行的区划不属于报送县 {county}，拒绝导入")
        if "n" in keys and not (isinstance(row["n"], int) and row["n"] >= 0):
            raise PackageError(f"交换包第 {number} 行的数值无效，拒绝导入")
        for key in ("as_of", "month", "computed_on"):
            if key in keys:
                _date(row[key], number=number, key=key)


def _date(value: object, *, number: int, key: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise PackageError(f"交换包第 {number} 行的 {key} 不是有效日期，拒绝导入") from None


def figures_import(
    package: ExchangePackage, opened: Opened, own: str
) -> tuple[list[str], dict[str, int], list[str]]:
    """Load a county's figures into this city or province instance (the caller's
    transaction), replacing what the county sent before."""
    county = opened.header.sender
    if not county.startswith(_own_prefix(own)):
        raise PackageError(f"报送县 {county} 不在本级（{own}）辖区内，拒绝导入")
    by_table: dict[str, list[dict[str, Any]]] = {table: [] for table in TABLES}
    for row in opened.rows:
        by_table[row["table"]].append(row)
    added = _divisions_add(by_table["division"], county)
    rounds = _rounds_replace(package, county, by_table["round"], by_table["round_figure"])
    LiveFigure.objects.filter(within("division_code", county)).delete()
    _create(
        LiveFigure,
        (
            LiveFigure(
                division_code=row["division_code"],
                measure=row["measure"],
                category=row["category"],
                month=dt.date.fromisoformat(row["month"]),
                n=row["n"],
            )
            for row in by_table["live_figure"]
        ),
    )
    DailyFigure.objects.filter(county_code=county).delete()
    _create(
        DailyFigure,
        (
            DailyFigure(
                county_code=county,
                division_code=row["division_code"],
                measure=row["measure"],
                category=row["category"],
                n=row["n"],
                computed_on=dt.date.fromisoformat(row["computed_on"]),
            )
            for row in by_table["daily_figure"]
        ),
    )
    days = "、".join(row["as_of"] for row in by_table["round"])
    lines = [
        (
            f"{county} 报送 {len(rounds)} 个监测轮次（基准日 {days}）的统计，"
            f"轮次统计 {len(by_table['round_figure'])} 行；新增区划 {added} 个"
        )
    ]
    counts = {
        "rounds": len(rounds),
        "round_figures": len(by_table["round_figure"]),
        "live_figures": len(by_table["live_figure"]),
        "daily_figures": len(by_table["daily_figure"]),
        "divisions_added": added,
    }
    return lines, counts, []


def _own_prefix(own: str) -> str:
    """The digits a city's (4) or province's (2) counties share."""
    return own[:2] if own.endswith("0000") else own[:4]


def _divisions_add(rows: list[dict[str, Any]], county: str) -> int:
    """Divisions this instance lacks, parents first; existing ones are left as they are."""
    order = {level.value: index for index, level in enumerate(LEVEL_ORDER)}
    known = set(
        Division.objects.filter(code__in=[row["code"] for row in rows]).values_list(
            "code", flat=True
        )
    )
    new = [row for row in rows if row["code"] not in known]
    for row in new:
        if row["level"] not in order or not str(row["code"]).isdigit():
            raise PackageError("交换包中的区划行无效，拒绝导入")
        below_county = order[row["level"]] > order["county"]
        if below_county and not str(row["code"]).startswith(county):
            raise PackageError(f"交换包中有不属于报送县 {county} 的区划，拒绝导入")
    new.sort(key=lambda row: order[row["level"]])
    for row in new:
        Division.objects.create(
            code=row["code"], name=row["name"], level=row["level"], parent_id=row["parent"] or None
        )
    return len(new)


def _rounds_replace(
    package: ExchangePackage,
    county: str,
    rounds: list[dict[str, Any]],
    figures: list[dict[str, Any]],
) -> list[Round]:
    """One Round per base date, received (never one this instance ran itself), its figures
    replaced by the package's."""
    by_day: dict[str, list[dict[str, Any]]] = {}
    for row in figures:
        by_day.setdefault(row["as_of"], []).append(row)
    loaded: list[Round] = []
    for row in rounds:
        as_of = dt.date.fromisoformat(row["as_of"])
        existing = Round.objects.filter(county_id=pad(county), as_of=as_of).first()
        if existing is not None and not ReceivedRound.objects.filter(round=existing).exists():
            raise PackageError(
                f"本系统已有 {county} 基准日 {as_of} 的本地监测轮次，不能用报送的统计覆盖"
            )
        completed = dt.datetime.fromisoformat(row["completed_at"]) if row["completed_at"] else None
        round_, _ = Round.objects.update_or_create(
            county_id=pad(county),
            as_of=as_of,
            defaults={
                "status": RoundStatus.DONE,
                "summary": row["summary"] if isinstance(row["summary"], dict) else {},
                "completed_at": completed,
            },
        )
        ReceivedRound.objects.update_or_create(round=round_, defaults={"package": package})
        RoundFigure.objects.filter(round=round_).delete()
        _create(
            RoundFigure,
            (
                RoundFigure(
                    round=round_,
                    level=figure["level"],
                    division_code=figure["division_code"],
                    group=figure["group"],
                    dimension=figure["dimension"],
                    category=figure["category"],
                    n=figure["n"],
                )
                for figure in by_day.get(row["as_of"], [])
            ),
        )
        loaded.append(round_)
    return loaded


def _create(model: Any, objects: Iterable[Any]) -> None:
    model.objects.bulk_create(objects, batch_size=_BATCH)
