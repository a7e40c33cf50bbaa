"""The dashboard (驾驶舱) of one jurisdiction: key figures and chart specifications.

Every number shown is collected first under a key, then small-cell protection decides once
which keys to hide (tonghu.stats.suppression), so charts and cards can never disagree about
what is shown. Charts are plain specifications the page's script draws with ECharts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tonghu import clock
from tonghu.accounts.roles import Role
from tonghu.divisions.models import Division
from tonghu.stats import selectors
from tonghu.stats.labels import (
    DROPOUT_LABELS,
    FAMILY_DOCTOR_LABELS,
    GRADE_HEX,
    GRADE_LABELS,
    GROUP_LABELS,
    INSURANCE_LABELS,
    ORIGIN_SCOPES,
    STAGE_LABELS,
    VACCINATION_LABELS,
    VISIT_STATUS_LABELS,
    category_label,
)
from tonghu.stats.models import Measure
from tonghu.stats.selectors import Jurisdiction
from tonghu.stats.suppression import Line, shown_text, suppressed

# Dimensions where each child has exactly one category: they add up to the group's total.
PARTITIONS = ("sex", "age", "origin_scope", "origin_province", "stage", "guardianship", "insurance")
SUBGROUPS = ("migrant", "left_behind", "difficulty", "key_care")
TREND_MONTHS = 12


class Figures:
    """Numbers under keys, the lines they add up along, and which to hide."""

    def __init__(self, *, threshold: int, protected: bool) -> None:
        self.values: dict[Hashable, int] = {}
        self.lines: list[Line[Hashable]] = []
        self.threshold = threshold
        self.protected = protected
        self._hidden: set[Hashable] | None = None

    def put(self, key: Hashable, value: int) -> None:
        if self._hidden is not None:
            raise RuntimeError("figures are read: protection was decided without this one")
        self.values[key] = value

    def line(self, total: Hashable, members: Iterable[Hashable]) -> None:
        self.lines.append(Line(total, tuple(members)))

    def get(self, key: Hashable) -> int | None:
        """The value to show, or None where it is hidden (a missing key counts 0)."""
        if self._hidden is None:
            self._hidden = (
                suppressed(self.values, self.lines, threshold=self.threshold)
                if self.protected
                else set()
            )
        value = self.values.get(key, 0)
        if self.protected and (key in self._hidden or value < self.threshold):
            return None
        return value

    def text(self, key: Hashable) -> str:
        return shown_text(self.get(key), threshold=self.threshold)


@dataclass
class Chart:
    id: str
    title: str
    kind: str  # bar | stack | line | pie
    categories: list[str]
    series: list[tuple[str, list[int | None]]]
    drill: list[str] = field(default_factory=list)  # area codes, one per category
    colors: list[str] = field(default_factory=list)
    note: str = ""

    def spec(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "kind": self.kind,
            "categories": self.categories,
            "series": [{"name": name, "data": data} for name, data in self.series],
            "drill": self.drill,
            "colors": self.colors,
        }


@dataclass
class Card:
    label: str
    text: str
    hint: str = ""


@dataclass
class AreaRow:
    code: str
    name: str
    cells: list[str]


@dataclass
class Dashboard:
    place: Jurisdiction
    cards: list[Card]
    charts: list[Chart]
    area_rows: list[AreaRow]
    daily_on: dt.date | None
    suppressed_text: str

    @property
    def specs(self) -> list[dict[str, Any]]:
        return [chart.spec() for chart in self.charts]


def health_ages(place: Jurisdiction) -> str:
    """The ages 健康状况 counts, as the profile sets them (e.g. "0-6岁")."""
    return f"0-{place.policy.health_age_max}岁"


def rate_text(numerator: int | None, denominator: int | None) -> str:
    if numerator is None or denominator is None:
        return "—"
    return f"{numerator / denominator:.1%}" if denominator else "—"


def dashboard(place: Jurisdiction) -> Dashboard:
    figures = Figures(threshold=place.threshold, protected=place.protected)
    totals = selectors.round_totals(place)
    for key, n in totals.items():
        figures.put(("r", *key), n)
    for group in GROUP_LABELS:
        for dimension in PARTITIONS:
            members = [("r", *key) for key in totals if key[:2] == (group, dimension)]
            figures.line(("r", group, "total", ""), members)
    names = selectors.areas(place)
    by_area = selectors.round_by_area(place, dimensions=("total",))
    area_codes = sorted({key[0] for key in by_area} | set(names))
    for (area, group, _, _), n in by_area.items():
        figures.put(("a", area, group), n)
    for group in GROUP_LABELS:
        figures.line(("r", group, "total", ""), [("a", area, group) for area in area_codes])
    trend = selectors.trend(place)
    for as_of, groups in trend.items():
        for group, n in groups.items():
            figures.put(("t", as_of, group), n)
    since = _months_back(clock.today(), TREND_MONTHS)
    live = selectors.live_figures(
        place,
        measures=(
            Measure.VISIT_HOME, Measure.VISIT_CONTACT, Measure.CASE_OPENED, Measure.CASE_CLOSED,
            Measure.CASE_CLOSE_DAYS, Measure.CASE_STEPS, Measure.CASE_STEPS_LATE,
            Measure.SERVICE_DELIVERED,
        ),
    )  # fmt: skip
    live_sum: dict[tuple[str, str], int] = {}
    for (measure, category, month), n in live.items():
        live_sum[measure, category] = live_sum.get((measure, category), 0) + n
        if month >= since:
            figures.put(("m", measure, month), figures.values.get(("m", measure, month), 0) + n)
    for (measure, category), n in live_sum.items():
        figures.put(("l", measure, category), n)
    daily = selectors.daily_figures(place)
    for (measure, category), n in daily.items():
        figures.put(("d", measure, category), n)
    plan_total = sum(n for (m, _), n in daily.items() if m == Measure.VISIT_STATUS)
    figures.put(("d", "visit_plan", ""), plan_total)
    figures.line(
        ("d", "visit_plan", ""), [("d", Measure.VISIT_STATUS, s) for s in VISIT_STATUS_LABELS]
    )
    director_count = selectors.workers(place).get(Role.CHILD_DIRECTOR, 0)
    figures.put(("x", "directors"), director_count)
    _coverage_totals(figures, totals)
    months = _months(since, clock.today())
    charts = _charts(
        figures, totals, place=place, names=names, area_codes=area_codes, rounds=sorted(trend),
        months=months,
    )  # fmt: skip
    return Dashboard(
        place=place,
        cards=_cards(figures, director_count),
        charts=charts,
        area_rows=_area_rows(figures, names, area_codes),
        daily_on=selectors.daily_computed_on(place),
        suppressed_text=shown_text(None, threshold=place.threshold),
    )


def _months_back(day: dt.date, count: int) -> dt.date:
    month = day.year * 12 + day.month - 1 - (count - 1)
    return dt.date(month // 12, month % 12 + 1, 1)


def _months(since: dt.date, until: dt.date) -> list[dt.date]:
    found, month = [], since
    while month <= until:
        found.append(month)
        month = dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return found


def _cards(figures: Figures, director_count: int) -> list[Card]:
    get = figures.get
    cards = [Card(label, figures.text(("r", group, "total", ""))) for group, label in
             GROUP_LABELS.items()]  # fmt: skip
    plan = get(("d", "visit_plan", ""))
    overdue = get(("d", Measure.VISIT_STATUS, "overdue"))
    on_time = None if plan is None or overdue is None else plan - overdue
    eligible = get(("r", "all", "service_total", ""))
    closed = get(("l", Measure.CASE_CLOSED, ""))
    close_days = figures.values.get(("l", Measure.CASE_CLOSE_DAYS, ""), 0)
    steps = get(("l", Measure.CASE_STEPS, ""))
    late = figures.values.get(("l", Measure.CASE_STEPS_LATE, ""), 0)
    cards += [
        Card("儿童主任", str(director_count)),
        Card(
            "人均联系儿童",
            f"{plan / director_count:.1f}" if plan is not None and director_count else "—",
            "须走访的儿童 ÷ 儿童主任",
        ),
        Card("走访按期率", rate_text(on_time, plan), "走访计划未逾期的儿童占比"),
        Card("服务实现程度", rate_text(get(("x", "delivered_total")), eligible)),
        Card("逾期转介", figures.text(("d", Measure.REFERRAL_OVERDUE, ""))),
        Card(
            "平均结案用时",
            f"{close_days / closed:.0f} 日" if closed else "—",
            f"已结案 {figures.text(('l', Measure.CASE_CLOSED, ''))} 件",
        ),
        Card(
            "环节按时办理率",
            rate_text(None if steps is None else steps - late, steps),
            "个案各环节在时限内办理的占比",
        ),
    ]
    return cards


def _series(figures: Figures, keys: Iterable[Hashable]) -> list[int | None]:
    return [figures.get(key) for key in keys]


def _dimension_chart(
    figures: Figures,
    totals: dict[tuple[str, str, str], int],
    *,
    chart_id: str,
    title: str,
    dimension: str,
    groups: tuple[str, ...],
    order: Iterable[str] | None = None,
    kind: str = "bar",
) -> Chart:
    present = {category for (g, d, category) in totals if d == dimension and g in groups}
    categories = [c for c in (order or []) if c in present] + sorted(present - set(order or []))
    return Chart(
        id=chart_id,
        title=title,
        kind=kind,
        categories=[category_label(dimension, c) for c in categories],
        series=[
            (GROUP_LABELS[g], _series(figures, [("r", g, dimension, c) for c in categories]))
            for g in groups
        ],
    )


def _charts(
    figures: Figures,
    totals: dict[tuple[str, str, str], int],
    *,
    place: Jurisdiction,
    names: dict[str, str],
    area_codes: list[str],
    rounds: list[dt.date],
    months: list[dt.date],
) -> list[Chart]:
    charts = [
        Chart(
            "scale", "各类儿童规模", "bar", list(GROUP_LABELS.values()),
            [("儿童数", _series(figures, [("r", g, "total", "") for g in GROUP_LABELS]))],
        ),
    ]  # fmt: skip
    if area_codes:
        charts.append(
            Chart(
                "areas", "分布区域（点击下钻）", "stack",
                [names.get(code, "未明确下级区划") for code in area_codes],
                [(GROUP_LABELS[g], _series(figures, [("a", a, g) for a in area_codes]))
                 for g in SUBGROUPS],
                drill=[code if code in names else "" for code in area_codes],
            )
        )  # fmt: skip
    health = health_ages(place)
    charts += [
        _dimension_chart(
            figures, totals, chart_id="age", title="年龄结构", dimension="age",
            groups=("migrant", "left_behind", "difficulty"), order=_age_order(totals),
        ),
        _dimension_chart(
            figures, totals, chart_id="origin", title="流动儿童户籍地", dimension="origin_scope",
            groups=("migrant",), order=ORIGIN_SCOPES, kind="pie",
        ),
        _provinces_chart(figures, totals),
        _dimension_chart(
            figures, totals, chart_id="family_doctor", title=f"家庭医生签约（{health}）",
            dimension="family_doctor", groups=("all",), order=FAMILY_DOCTOR_LABELS, kind="pie",
        ),
        _dimension_chart(
            figures, totals, chart_id="vaccination", title=f"本地预防接种（{health}）",
            dimension="vaccination", groups=("all",), order=VACCINATION_LABELS, kind="pie",
        ),
        _dimension_chart(
            figures, totals, chart_id="stage", title="学业状况：学段", dimension="stage",
            groups=("migrant", "left_behind", "difficulty"), order=STAGE_LABELS,
        ),
        _dimension_chart(
            figures, totals, chart_id="dropout", title="控辍保学", dimension="dropout",
            groups=("all",), order=DROPOUT_LABELS,
        ),
        _dimension_chart(
            figures, totals, chart_id="guardianship", title="监护类型", dimension="guardianship",
            groups=("left_behind", "difficulty"),
        ),
        _grades_chart(figures),
        _dimension_chart(
            figures, totals, chart_id="insurance", title="医疗保险参保", dimension="insurance",
            groups=("all",), order=INSURANCE_LABELS, kind="pie",
        ),
        Chart(
            "trend", "历轮监测摸排趋势", "line", [f"{day:%Y-%m-%d}" for day in rounds],
            [(GROUP_LABELS[g], _series(figures, [("t", day, g) for day in rounds]))
             for g in GROUP_LABELS],
        ),
        Chart(
            "visit_status", "走访计划执行", "pie", list(VISIT_STATUS_LABELS.values()),
            [("儿童数", _series(figures, [("d", Measure.VISIT_STATUS, s)
                                      for s in VISIT_STATUS_LABELS]))],
        ),
        Chart(
            "visits", "每月走访", "line", [f"{m:%Y-%m}" for m in months],
            [(label, _series(figures, [("m", measure, m) for m in months]))
             for measure, label in ((Measure.VISIT_HOME, "入户走访"),
                                    (Measure.VISIT_CONTACT, "联系"))],
        ),
        Chart(
            "cases", "强制报告与个案（每月）", "bar", [f"{m:%Y-%m}" for m in months],
            [(label, _series(figures, [("m", measure, m) for m in months]))
             for measure, label in ((Measure.CASE_OPENED, "新立案件"),
                                    (Measure.CASE_CLOSED, "结案"))],
        ),
    ]  # fmt: skip
    charts.append(_coverage_chart(figures, totals, place))
    return charts


TOP_PROVINCES = 10


def _provinces_chart(figures: Figures, totals: dict[tuple[str, str, str], int]) -> Chart:
    """The provinces most migrant children come from (the rest summed as 其他省份)."""
    counts = sorted(
        ((n, c) for (g, d, c), n in totals.items() if (g, d) == ("migrant", "origin_province")),
        reverse=True,
    )
    names = selectors.province_names()
    shown = [c for _, c in counts[:TOP_PROVINCES]]
    return Chart(
        "provinces", "流动儿童户籍省份", "bar",
        [names.get(c, category_label("origin_province", c)) for c in shown],
        [("流动儿童", _series(figures, [("r", "migrant", "origin_province", c) for c in shown]))],
    )  # fmt: skip


def _age_order(totals: dict[tuple[str, str, str], int]) -> list[str]:
    """Age bands in age order (labels start with their lower bound)."""
    bands = {c for (_, d, c) in totals if d == "age"}

    def lower(label: str) -> int:
        digits = label.split("-", maxsplit=1)[0]
        return int(digits) if digits.isdigit() else 999

    return sorted(bands, key=lower)


def _grades_chart(figures: Figures) -> Chart:
    grades = list(GRADE_LABELS)
    return Chart(
        "grades", "家庭监护能力评估（最近一次）", "pie", grades,
        [("儿童数", _series(figures, [("d", Measure.ASSESSMENT_GRADE, g) for g in grades]))],
        colors=[GRADE_HEX[g] for g in grades],
    )  # fmt: skip


def _services(totals: dict[tuple[str, str, str], int]) -> list[str]:
    return sorted(c for (g, d, c) in totals if g == "all" and d == "service")


def served(due: Mapping[str, int], delivered: Mapping[str, int]) -> dict[str, int]:
    """Service code -> children served, never more than are due (a service delivered to more
    children than now qualify counts as fully delivered, never over)."""
    return {code: min(delivered.get(code, 0), n) for code, n in due.items()}


def _coverage_totals(figures: Figures, totals: dict[tuple[str, str, str], int]) -> None:
    """Children due a service and those served, over all services."""
    due = {c: totals["all", "service", c] for c in _services(totals)}
    delivered = {c: figures.values.get(("l", Measure.SERVICE_DELIVERED, c), 0) for c in due}
    figures.put(("r", "all", "service_total", ""), sum(due.values()))
    figures.put(("x", "delivered_total"), sum(served(due, delivered).values()))


def _coverage_chart(
    figures: Figures, totals: dict[tuple[str, str, str], int], place: Jurisdiction
) -> Chart:
    services = _services(totals)
    names = {item.code: item.name for item in place.profile.services.items}
    return Chart(
        "coverage", "服务实现程度（应享与已服务）", "bar",
        [names.get(code, code) for code in services],
        [("应享", _series(figures, [("r", "all", "service", c) for c in services])),
         ("已服务", _series(figures, [("l", Measure.SERVICE_DELIVERED, c) for c in services]))],
    )  # fmt: skip


def _area_rows(figures: Figures, names: dict[str, str], area_codes: list[str]) -> list[AreaRow]:
    return [
        AreaRow(
            code if code in names else "",
            names.get(code, "未明确下级区划"),
            [figures.text(("a", code, g)) for g in GROUP_LABELS],
        )
        for code in area_codes
    ]


def breadcrumbs(place: Jurisdiction) -> list[Division]:
    """From the user's own division down to the one shown."""
    trail: list[Division] = []
    division: Division | None = place.division
    while division is not None:
        trail.append(division)
        if division.code == place.user.division_id:
            break
        division = division.parent
    return list(reversed(trail))
