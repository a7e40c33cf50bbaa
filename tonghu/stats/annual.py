"""The annual progress report (年度工作进展情况) each bureau sends the level above by the
profile's due date (11月30日 under the Zhejiang policy): six sections of figures for one
jurisdiction and one calendar year, as a page, an XLSX and a PDF.

It reads the same figure tables as the dashboard, in a fixed handful of queries: the year's
completed rounds, the children at each county's latest round of that year, the year's live
counters, today's daily figures (only in the current year's report: they are states, not
history), the workers and the year's trainings. Every count about children goes through one
``Figures`` so small-cell protection applies; counts of rounds, workers and trainings are not
about children (the roster of child directors is posted publicly) and go through an
unprotected one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Sum
from django.template.loader import render_to_string
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

from tonghu import clock
from tonghu.accounts.roles import Role
from tonghu.accounts.scope import within
from tonghu.divisions.codes import Level
from tonghu.divisions.models import Division
from tonghu.roster.models import Training
from tonghu.rounds.models import Round, RoundStatus
from tonghu.stats import selectors
from tonghu.stats.dashboard import Figures, rate_text, served
from tonghu.stats.labels import GROUP_LABELS, VISIT_STATUS_LABELS
from tonghu.stats.models import Measure
from tonghu.stats.selectors import Jurisdiction
from tonghu.web.exports import safe_cell

YEAR_MIN = 2000  # the earliest year a report may be asked for
SHEET_TITLE = "工作进展情况"
COLUMNS = ("指标", "数值", "说明")
NONE_TEXT = "—"
PAST_NOTE = "当前状态类指标，仅在当年报告中提供"
# 监护正常 first, as the report reads (the profile lists the worst first).
GRADES = ("监护正常", "监护不足", "监护失当", "监护缺失")
LIVE_MEASURES = (
    Measure.VISIT_HOME,
    Measure.VISIT_CONTACT,
    Measure.CASE_OPENED,
    Measure.CASE_CLOSED,
    Measure.CASE_CLOSE_DAYS,
    Measure.CASE_STEPS,
    Measure.CASE_STEPS_LATE,
    Measure.SERVICE_DELIVERED,
)
HALF_YEAR_FIRST_MONTH = 7  # 下半年 starts in July


@dataclass(frozen=True)
class Row:
    label: str  # 指标
    value: str  # 数值, as the reader sees it ("<5" where protected)
    note: str = ""  # 说明


@dataclass(frozen=True)
class Section:
    title: str
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class AnnualReport:
    division_name: str
    year: int
    reported_on: dt.date
    due_text: str
    sections: tuple[Section, ...]
    notes: tuple[str, ...]
    protected: bool

    @property
    def title(self) -> str:
        return f"{self.division_name}{self.year}年度工作进展情况"

    @property
    def file_stem(self) -> str:
        return f"{self.year}年度工作进展情况_{self.division_name}"

    @property
    def reported_text(self) -> str:
        return f"{self.reported_on.year}年{self.reported_on.month}月{self.reported_on.day}日"


@dataclass(frozen=True)
class Trainings:
    sessions: int  # distinct (date, topic)
    attendances: int  # one per person and training
    hours: Decimal


@dataclass
class _Data:
    """What the report reads, each in one query."""

    year: int
    current: bool  # the current year: today's daily figures belong in it
    rounds: list[Round]  # the year's completed rounds, by county and date
    counties: dict[str, str]  # the counties in the jurisdiction, code -> name
    totals: dict[selectors.Key, int]  # children at each county's latest round of the year
    live: dict[tuple[str, str, dt.date], int]
    daily: dict[tuple[str, str], int]
    daily_on: dt.date | None
    workers: dict[str, int]  # role -> active workers
    trainings: Trainings

    @property
    def as_of(self) -> dt.date | None:
        return max((round_.as_of for round_ in self.rounds), default=None)

    @property
    def delivered(self) -> dict[str, int]:
        """Service code -> services delivered up to the year's end."""
        found: dict[str, int] = defaultdict(int)
        for (measure, category, _), n in self.live.items():
            if measure == Measure.SERVICE_DELIVERED:
                found[category] += n
        return found

    @property
    def service_codes(self) -> list[str]:
        due = {category for (_, dimension, category) in self.totals if dimension == "service"}
        return sorted(due | set(self.delivered))


def annual_report(place: Jurisdiction, *, year: int) -> AnnualReport:
    """The jurisdiction's report for ``year``, small cells protected where the place asks."""
    today = clock.today()
    data = _gather(place, year=year, today=today)
    kids = _child_figures(place, data)
    public = _public_figures(place, data)
    due = place.policy.annual_report_due
    return AnnualReport(
        division_name=place.division.name,
        year=year,
        reported_on=today,
        due_text=f"请于{year}年{due.month}月{due.day}日前报送",
        sections=(
            _monitoring(data, kids, public),
            _services(place, data, kids),
            _visits(data, kids),
            _assessment(data, kids),
            _cases(kids),
            _workforce(data, public),
        ),
        notes=_notes(place, data),
        protected=place.protected,
    )


# Reading ---------------------------------------------------------------------------------


def _gather(place: Jurisdiction, *, year: int, today: dt.date) -> _Data:
    current = year == today.year
    rounds = _year_rounds(place, year)
    latest: dict[str, Round] = {}
    for round_ in rounds:  # in date order: the last one per county stays
        latest[round_.county_id] = round_
    year_place = dataclasses.replace(place, rounds=tuple(latest.values()))
    return _Data(
        year=year,
        current=current,
        rounds=rounds,
        counties=_counties(place),
        totals=selectors.round_totals(year_place) if latest else {},
        live=selectors.live_figures(place, measures=LIVE_MEASURES, until=dt.date(year, 12, 1)),
        daily=selectors.daily_figures(place) if current else {},
        daily_on=selectors.daily_computed_on(place) if current else None,
        workers=selectors.workers(place),
        trainings=_trainings(place, year),
    )


def _county_range(place: Jurisdiction) -> str:
    """The code prefix of the counties whose rounds cover the jurisdiction."""
    return place.code_prefix[: Level.COUNTY.prefix_length]


def _year_rounds(place: Jurisdiction, year: int) -> list[Round]:
    return list(
        Round.objects.filter(
            within("county_id", _county_range(place)),
            status=RoundStatus.DONE,
            as_of__year=year,
        ).order_by("county_id", "as_of")
    )


def _counties(place: Jurisdiction) -> dict[str, str]:
    found = Division.objects.filter(
        within("code", _county_range(place)), level=Level.COUNTY
    ).values_list("code", "name")
    return dict(sorted(found))


def _trainings(place: Jurisdiction, year: int) -> Trainings:
    rows = Training.objects.filter(within("user__division_id", place.code_prefix), on__year=year)
    sums = rows.aggregate(attendances=Count("pk"), hours=Sum("hours"))
    return Trainings(
        sessions=rows.order_by().values("on", "topic").distinct().count(),
        attendances=sums["attendances"],
        hours=sums["hours"] or Decimal(0),
    )


# Figures ---------------------------------------------------------------------------------


def _child_figures(place: Jurisdiction, data: _Data) -> Figures:
    """Every count about children, under keys; then protection is decided once."""
    figures = Figures(threshold=place.threshold, protected=place.protected)
    for group in GROUP_LABELS:
        figures.put(("r", group), data.totals.get((group, "total", ""), 0))
    figures.put(("new",), sum(int(r.summary.get("new_children", 0)) for r in data.rounds))
    year_sum: dict[str, int] = defaultdict(int)
    for (measure, _, month), n in data.live.items():
        if month.year == data.year:
            year_sum[measure] += n
    for measure, n in year_sum.items():
        figures.put(("l", measure), n)
    _service_figures(figures, data)
    for (measure, category), n in data.daily.items():
        figures.put(("d", measure, category), n)
    _daily_total(figures, data, "plan", Measure.VISIT_STATUS, VISIT_STATUS_LABELS)
    _daily_total(figures, data, "assessed", Measure.ASSESSMENT_GRADE, GRADES)
    return figures


def _service_figures(figures: Figures, data: _Data) -> None:
    """Per service: children due it at the latest round, and served up to the year's end
    (never more than are due); the totals add up along lines."""
    codes = data.service_codes
    due = {code: data.totals.get(("all", "service", code), 0) for code in codes}
    got = served(due, data.delivered)
    for code in codes:
        figures.put(("due", code), due[code])
        figures.put(("got", code), got[code])
    figures.put(("due",), sum(figures.values[("due", code)] for code in codes))
    figures.put(("got",), sum(figures.values[("got", code)] for code in codes))
    figures.line(("due",), [("due", code) for code in codes])
    figures.line(("got",), [("got", code) for code in codes])


def _daily_total(
    figures: Figures, data: _Data, key: str, measure: Measure, categories: Iterable[str]
) -> None:
    members = [("d", measure, category) for category in categories]
    figures.put((key,), sum(n for (m, _), n in data.daily.items() if m == measure))
    figures.line((key,), members)


def _public_figures(place: Jurisdiction, data: _Data) -> Figures:
    """Counts not about children (rounds, workers, trainings): shown as they are."""
    figures = Figures(threshold=place.threshold, protected=False)
    figures.put(("rounds",), len(data.rounds))
    figures.put(("workers", Role.CHILD_DIRECTOR), data.workers.get(Role.CHILD_DIRECTOR, 0))
    figures.put(("workers", Role.SUPERVISOR), data.workers.get(Role.SUPERVISOR, 0))
    figures.put(("sessions",), data.trainings.sessions)
    figures.put(("attendances",), data.trainings.attendances)
    return figures


# Sections --------------------------------------------------------------------------------


def _date_text(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _monitoring(data: _Data, kids: Figures, public: Figures) -> Section:
    rows = [
        Row("完成监测摸排（轮）", public.text(("rounds",)), _base_dates(data)),
        _half_years(data),
    ]
    if data.as_of is None:
        rows += [Row(label, NONE_TEXT, "本年度尚未完成监测摸排") for label in GROUP_LABELS.values()]
    else:
        at = f"截至本年度最近一轮摸排（{_date_text(data.as_of)}）"
        rows += [Row(label, kids.text(("r", group)), at) for group, label in GROUP_LABELS.items()]
    rows.append(Row("本年度新发现儿童", kids.text(("new",)), "各轮比对新纳入台账的儿童"))
    return Section("一、监测摸排", tuple(rows))


def _rounds_by_county(data: _Data) -> dict[str, list[Round]]:
    found: dict[str, list[Round]] = defaultdict(list)
    for round_ in data.rounds:
        found[round_.county_id].append(round_)
    return found


def _base_dates(data: _Data) -> str:
    by_county = _rounds_by_county(data)
    if not by_county:
        return "本年度尚未完成监测摸排"
    texts = {
        county: "、".join(_date_text(round_.as_of) for round_ in rounds)
        for county, rounds in by_county.items()
    }
    if len(data.counties) <= 1:
        return "摸排基准日：" + next(iter(texts.values()))
    return "摸排基准日：" + "；".join(
        f"{data.counties.get(county, county)} {text}" for county, text in texts.items()
    )


def _half_years(data: _Data) -> Row:
    """每半年至少开展一次: a round with its base date in each half of the year."""
    halves: dict[str, tuple[int, int]] = {}
    for county, rounds in _rounds_by_county(data).items():
        first = sum(round_.as_of.month < HALF_YEAR_FIRST_MONTH for round_ in rounds)
        halves[county] = (first, len(rounds) - first)
    label = "每半年至少开展一次"
    if len(data.counties) <= 1:
        first, second = next(iter(halves.values()), (0, 0))
        return Row(label, "是" if first and second else "否", f"上半年{first}轮、下半年{second}轮")
    met = [code for code in data.counties if all(halves.get(code, (0, 0)))]
    missing = [name for code, name in data.counties.items() if code not in met]
    note = "未达到：" + "、".join(missing) if missing else "各区县均已达到"
    return Row(label, f"{len(met)}/{len(data.counties)}个区县达到", note)


def _services(place: Jurisdiction, data: _Data, kids: Figures) -> Section:
    names = {item.code: item.name for item in place.profile.services.items}
    year_end = f"{data.year}年末" if not data.current else "报告日"
    rows = [
        Row("应享服务（人次）", kids.text(("due",)), "本年度最近一轮摸排认定应享的基本公共服务"),
        Row("已提供服务（人次）", kids.text(("got",)), f"截至{year_end}累计，超出应享的不计"),
        Row("实现程度", rate_text(kids.get(("got",)), kids.get(("due",))), "已提供 ÷ 应享"),
        Row("本年度提供服务（人次）", kids.text(("l", Measure.SERVICE_DELIVERED)), ""),
    ]
    for code in data.service_codes:
        got, due = kids.get(("got", code)), kids.get(("due", code))
        rows.append(
            Row(
                f"其中：{names.get(code, code)}",
                f"{kids.text(('got', code))}/{kids.text(('due', code))}",
                f"已提供/应享，实现程度 {rate_text(got, due)}",
            )
        )
    rows += _daily_rows(
        data,
        kids,
        (
            ("未办结转介（件）", ("d", Measure.REFERRAL_OPEN, ""), ""),
            ("逾期转介（件）", ("d", Measure.REFERRAL_OVERDUE, ""), "超过办理时限仍未办结"),
        ),
    )
    return Section("二、政策找人", tuple(rows))


def _daily_rows(
    data: _Data, kids: Figures, specs: Sequence[tuple[str, Hashable, str]]
) -> list[Row]:
    """Rows of today's figures; in a past year's report they are not given."""
    if not data.current:
        return [Row(label, NONE_TEXT, PAST_NOTE) for label, _, _ in specs]
    on = f"统计于{_date_text(data.daily_on)}" if data.daily_on else "尚无每日统计"
    return [
        Row(label, kids.text(key), "；".join(filter(None, (note, on))))
        for label, key, note in specs
    ]


def _visits(data: _Data, kids: Figures) -> Section:
    rows = [
        Row("入户走访（次）", kids.text(("l", Measure.VISIT_HOME)), f"{data.year}年各月合计"),
        Row(
            "电话、视频等联系（次）",
            kids.text(("l", Measure.VISIT_CONTACT)),
            f"{data.year}年各月合计",
        ),
        *_daily_rows(data, kids, (("须走访儿童（人）", ("plan",), "纳入走访计划的儿童"),)),
    ]
    if data.current:
        plan = kids.get(("plan",))
        overdue = kids.get(("d", Measure.VISIT_STATUS, "overdue"))
        on_time = None if plan is None or overdue is None else plan - overdue
        overdue_text = kids.text(("d", Measure.VISIT_STATUS, "overdue"))
        rows.append(
            Row("走访计划按期率", rate_text(on_time, plan), f"走访已逾期儿童 {overdue_text} 人")
        )
    else:
        rows.append(Row("走访计划按期率", NONE_TEXT, PAST_NOTE))
    return Section("三、走访探视", tuple(rows))


def _assessment(data: _Data, kids: Figures) -> Section:
    specs: list[tuple[str, Hashable, str]] = [("已评估儿童（人）", ("assessed",), "最近一次评估")]
    specs += [(f"{grade}（人）", ("d", Measure.ASSESSMENT_GRADE, grade), "") for grade in GRADES]
    return Section("四、监护评估", tuple(_daily_rows(data, kids, specs)))


def _cases(kids: Figures) -> Section:
    closed = kids.get(("l", Measure.CASE_CLOSED))
    close_days = kids.values.get(("l", Measure.CASE_CLOSE_DAYS), 0)
    steps = kids.get(("l", Measure.CASE_STEPS))
    late = kids.values.get(("l", Measure.CASE_STEPS_LATE), 0)
    return Section(
        "五、强制报告与个案处置",
        (
            Row("新立案件（件）", kids.text(("l", Measure.CASE_OPENED)), "强制报告与预警转案件"),
            Row("结案（件）", kids.text(("l", Measure.CASE_CLOSED)), ""),
            Row(
                "平均结案用时",
                f"{close_days / closed:.1f}日" if closed else NONE_TEXT,
                "本年度结案案件自立案至结案的平均日数",
            ),
            Row(
                "环节按时办理率",
                rate_text(None if steps is None else steps - late, steps),
                f"本年度办理环节 {kids.text(('l', Measure.CASE_STEPS))} 个",
            ),
        ),
    )


def _workforce(data: _Data, public: Figures) -> Section:
    workers = (
        public.values[("workers", Role.CHILD_DIRECTOR)]
        + public.values[("workers", Role.SUPERVISOR)]
    )
    hours = data.trainings.hours
    return Section(
        "六、队伍建设",
        (
            Row(
                "儿童主任（人）", public.text(("workers", Role.CHILD_DIRECTOR)), "在岗，截至报告日"
            ),
            Row("儿童督导员（人）", public.text(("workers", Role.SUPERVISOR)), "在岗，截至报告日"),
            Row("培训场次", public.text(("sessions",)), "按培训日期与主题计"),
            Row("参训人次", public.text(("attendances",)), ""),
            Row("培训学时合计", f"{hours:.1f}", ""),
            Row(
                "人均培训学时",
                f"{hours / workers:.1f}" if workers else NONE_TEXT,
                "培训学时合计 ÷ 在岗儿童主任和督导员",
            ),
        ),
    )


def _notes(place: Jurisdiction, data: _Data) -> tuple[str, ...]:
    notes = [
        f"统计范围：{place.division.name}；统计年度：{data.year}年1月1日至12月31日。",
        "儿童人数取本年度各区县最近一轮监测摸排；走访、服务、个案按当年各月实时计数。",
    ]
    if data.current:
        notes.append("转介、走访计划与监护评估为统计当日的状态（每日更新）。")
    if place.protected:
        notes.append(
            f"小数保护：少于{place.threshold}名儿童的数值及可据以推算的数值显示为"
            f"“<{place.threshold}”。"
        )
    return tuple(notes)


# Files -----------------------------------------------------------------------------------

THIN = Side(style="thin")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP = Alignment(vertical="center", wrap_text=True)
CENTRE = Alignment(horizontal="center", vertical="center", wrap_text=True)
SECTION_FILL = PatternFill("solid", fgColor="E8EEF7")


def _xlsx_value(text: str) -> object:
    """Whole numbers as numbers (they add up in the sheet), everything else as safe text."""
    return int(text) if text.isdigit() else safe_cell(text)


def annual_xlsx(report: AnnualReport) -> bytes:
    """One sheet: the title and the due date merged across, a header, then each section's
    title row merged across and its rows, all bordered; the notes below."""
    book = Workbook()
    sheet = book.worksheets[0]
    sheet.title = SHEET_TITLE
    width = len(COLUMNS)
    sheet.append([safe_cell(report.title)])
    sheet.append([safe_cell(f"{report.due_text}　报告日期：{report.reported_text}")])
    sheet.append(list(COLUMNS))
    for row in (1, 2):
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A1"].alignment = CENTRE
    for cell in sheet[3]:
        cell.font = Font(bold=True)
        cell.alignment = CENTRE
        cell.border = BOX
    for section in report.sections:
        sheet.append([safe_cell(section.title)])
        row = sheet.max_row
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
        for column in range(1, width + 1):
            cell = sheet.cell(row, column)
            cell.font = Font(bold=True)
            cell.fill = SECTION_FILL
            cell.border = BOX
        for item in section.rows:
            sheet.append([safe_cell(item.label), _xlsx_value(item.value), safe_cell(item.note)])
            for cell in sheet[sheet.max_row]:
                cell.border = BOX
                cell.alignment = WRAP
    for note in report.notes:
        sheet.append([safe_cell(note)])
        row = sheet.max_row
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
    for letter, size in zip("ABC", (28, 16, 48), strict=True):
        sheet.column_dimensions[letter].width = size
    sheet.print_options.horizontalCentered = True
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def annual_pdf_html(report: AnnualReport) -> str:
    return render_to_string("stats/annual_pdf.html", {"report": report})


def annual_pdf(report: AnnualReport) -> bytes:
    """The report as an A4 PDF. Nothing is fetched: the page carries its own styles and the
    fonts are the system's (fonts-noto-cjk); only data: URLs would be read."""
    # Imported here: loading pango takes seconds, and only this download needs it.
    import weasyprint  # type: ignore[import-untyped]  # noqa: PLC0415

    fetcher = weasyprint.urls.URLFetcher(allowed_protocols={"data"})
    document = weasyprint.HTML(
        string=annual_pdf_html(report), base_url=str(settings.BASE_DIR), url_fetcher=fetcher
    )
    pdf: bytes = document.write_pdf()
    return pdf
