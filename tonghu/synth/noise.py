"""Rendering a clean record as the messy cells a department's export really holds.

Noise that only changes how a value is written (date formats, sex codes, full-width digits,
phone formats, lowercase ``x``) is applied everywhere. Noise that loses or corrupts a value
(typos, homophones, a wrong check character, a missing ID) is applied only where the truth
does not depend on it: never to boundary-case children, never to a birth date, and never to
a date that a rule of policy.md reads. Every disturbance is logged for truth/noise.csv.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from tonghu.synth import ids, names
from tonghu.synth.columns import Column, Kind, Source
from tonghu.synth.draws import Dice
from tonghu.synth.model import Record, Value
from tonghu.synth.settings import DEFAULT_SETTINGS, NoiseSettings

Cell = str | date | int | None
NoiseLog = list[tuple[str, str]]  # (canonical column, noise kind)
Renderer = Callable[["Column", "Value", "FileStyle", bool, NoiseLog], Cell]

EXCEL_EPOCH = date(1899, 12, 30)
FULL_WIDTH_OFFSET = 0xFEE0
DATE_PLACEHOLDERS = ("不详", "待补录", "/", "无")
# Dates a rule reads or that decide "latest": they are never blanked.
PROTECTED_DATES = frozenset({
    "居住登记日期", "来本地日期", "入学日期", "建档日期", "本地首次接种日期", "最近接种日期",
    "申报日期", "走访日期", "父亲外出起始日期", "母亲外出起始日期", "起始日期", "终止日期",
})  # fmt: skip
# Sources whose records often lack the child's ID as a fact of the record (feeds.md §2).
ID_OFTEN_EMPTY = frozenset({"health_child", "cdc_vaccination"})
PARENT_ID_MISSING = 0.02  # share of parents' ID cells left empty
ID_BAD_CHECK = 0.007  # share of ID cells with a wrong check character (after the missing ones)


def _iso(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}-{day.day:02d}"


def _slash(day: date) -> str:
    return f"{day.year}/{day.month}/{day.day}"


def _slash_padded(day: date) -> str:
    return f"{day.year:04d}/{day.month:02d}/{day.day:02d}"


def _compact(day: date) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def _dotted(day: date) -> str:
    return f"{day.year:04d}.{day.month:02d}.{day.day:02d}"


def _chinese(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _chinese_padded(day: date) -> str:
    return f"{day.year:04d}年{day.month:02d}月{day.day:02d}日"


DATE_FORMATS: dict[str, Callable[[date], str]] = {
    "iso": _iso,
    "slash": _slash,
    "slash_padded": _slash_padded,
    "compact": _compact,
    "dotted": _dotted,
    "chinese": _chinese,
    "chinese_padded": _chinese_padded,
}
DATE_FORMAT_NAMES = tuple(DATE_FORMATS)
SEX_STYLES: dict[str, dict[str, str]] = {
    "text": {"男": "男", "女": "女"},
    "code": {"男": "1", "女": "2"},
    "letter": {"男": "M", "女": "F"},
}


@dataclass(frozen=True)
class FileStyle:
    """How one exported file writes its values."""

    date_format: str = "iso"
    date_mix: float = 0.05  # chance a date cell uses another format
    sex_style: str = "text"
    sex_mix: float = 0.03
    xlsx: bool = False
    date_cells: float = 0.0  # XLSX: share of dates written as date cells
    serial_dates: float = 0.0  # XLSX: share written as bare Excel serial numbers


def full_width(text: str) -> str:
    return "".join(
        chr(ord(char) + FULL_WIDTH_OFFSET) if "!" <= char <= "~" else char for char in text
    )


# (cumulative chance, noise kind to log or "", how the number is written)
PHONE_FORMATS: tuple[tuple[float, str, Callable[[str], str]], ...] = (
    (0.12, "", lambda p: "+86 " + p),
    (0.16, "", lambda p: "+86" + p),
    (0.24, "", lambda p: f"{p[:3]}-{p[3:7]}-{p[7:]}"),
    (0.30, "", lambda p: f"{p[:3]} {p[3:7]} {p[7:]}"),
    (0.31, "phone_full_width", full_width),
)


def excel_serial(day: date) -> int:
    return (day - EXCEL_EPOCH).days


class Noiser:
    """Turns clean values into cells; one instance per run, sharing the run's random stream."""

    def __init__(self, dice: Dice, settings: NoiseSettings = DEFAULT_SETTINGS) -> None:
        self.dice = dice
        self.settings = settings
        self._name_scale = settings.name_noise
        self._name_swap = settings.name_swap
        self._id_missing = settings.id_missing
        self._renderers: dict[Kind, Renderer] = {
            Kind.KEY: self._key,
            Kind.NAME: self._name,
            Kind.PERSON: self._person,
            Kind.ID: self._id,
            Kind.PARENT_ID: self._id,
            Kind.BIRTH: self._date,
            Kind.DATE: self._date,
            Kind.SEX: self._sex,
            Kind.PHONE: self._phone,
            Kind.CODE: self._code,
            Kind.TEXT: self._text,
            Kind.ENUM: self._enum,
        }

    def plan(self, columns: tuple[Column, ...]) -> tuple[tuple[Renderer, Column], ...]:
        """The renderer of each column, looked up once per file."""
        return tuple((self._renderers[column.kind], column) for column in columns)

    def render(
        self,
        source: Source,
        record: Record,
        plan: tuple[tuple[Renderer, Column], ...],
        style: FileStyle,
        *,
        light: bool,
    ) -> tuple[list[Cell], NoiseLog]:
        """Cells for the planned columns of ``record``; ``light`` keeps values recoverable."""
        log: NoiseLog = []
        values = record.values
        self._source = source.name
        cells = [
            render(column, values.get(column.name), style, light, log) for render, column in plan
        ]
        return cells, log

    # Renderers ----------------------------------------------------------------------------
    def _key(
        self, column: Column, value: Value, style: FileStyle, light: bool, log: NoiseLog
    ) -> Cell:
        return "" if value is None else str(value)

    def _name(
        self, column: Column, value: Value, style: FileStyle, light: bool, log: NoiseLog
    ) -> Cell:
        return self._any_name(column, value, light, log, rate=1.0)

    def _person(
        self, column: Column, value: Value, style: FileStyle, light: bool, log: NoiseLog
    ) -> Cell:
        return self._any_name(column, value, light, log, rate=0.6)

    def _any_name(
        self, column: Column, value: Value, light: bool, log: NoiseLog, *, rate: float
    ) -> Cell:
        if not isinstance(value, str) or not value:
            return ""
        rng = self.dice.rng
        if names.MIDDLE_DOT in value and rng.random() < 0.4:
            variant = names.dot_variant(value, rng)
            if variant:
                log.append((column.name, "name_dot_variant"))
                return variant
        if light:
            return value
        scaled = rate * self._name_scale
        roll = rng.random() / scaled if scaled else 1.0
        changed: str | None = None
        kind = ""
        if roll < 0.012:
            changed, kind = names.homophone(value, rng), "name_homophone"
        elif roll < 0.02:
            changed, kind = names.traditional(value), "name_traditional"
        elif roll < 0.03:
            changed, kind = names.inner_space(value, rng), "name_inner_space"
        elif roll < 0.034:
            changed, kind = names.shape_typo(value, rng), "name_typo"
        elif roll < 0.039:
            changed, kind = f" {value} ", "name_outer_space"
        if changed is None:
            if self._name_swap and column.kind is Kind.NAME and rng.random() < self._name_swap:
                changed, kind = names.swapped(value), "name_swap"
            if changed is None:
                return value
        log.append((column.name, kind))
        return changed

    def _id(
        self, column: Column, value: Value, style: FileStyle, light: bool, log: NoiseLog
    ) -> Cell:
        if not isinstance(value, str) or not value:
            return ""
        rng = self.dice.rng
        number = value
        roll = rng.random()
        if not light:
            often_empty = self._source in ID_OFTEN_EMPTY
            missing = (
                self._id_missing
                if column.kind is Kind.ID and not often_empty
                else PARENT_ID_MISSING
            )
            if roll < missing and not often_empty:
                log.append((column.name, "id_missing"))
                return ""
            if roll < missing + ID_BAD_CHECK:
                log.append((column.name, "id_bad_check"))
                number = ids.with_wrong_check(number, rng)
            elif column.kind is Kind.PARENT_ID and number[6:8] == "19" and roll < 0.09:
                log.append((column.name, "id_legacy15"))
                number = ids.legacy(number)
        if number.endswith("X") and rng.random() < 0.4:
            log.append((column.name, "id_lower_x"))
            number = number[:-1] + "x"
        if rng.random() < 0.015:
            log.append((column.name, "id_full_width"))
            number = full_width(number)
        return number

    def _date(
        self, column: Column, value: Value, style: FileStyle, light: bool, log: NoiseLog
    ) -> Cell:
        rng = self.dice.rng
        if not isinstance(value, date):
            if value is None and column.kind is Kind.DATE and rng.random() < 0.3:
                return rng.choice(DATE_PLACEHOLDERS)
            return "" if value is None else str(value)
        unprotected = column.kind is Kind.DATE and column.name not in PROTECTED_DATES
        if not light and unprotected and rng.random() < 0.01:
            log.append((column.name, "date_placeholder"))
            return rng.choice(DATE_PLACEHOLDERS)
        if style.xlsx:
            roll = rng.random()
            if roll < style.date_cells:
                return value
            if roll < style.date_cells + style.serial_dates:
                log.append((column.name, "date_excel_serial"))
                return excel_serial(value)
        name = style.date_format
        if rng.random() < style.date_mix:
            name = rng.choice(DATE_FORMAT_NAMES)
            if name != style.date_format:
                log.append((column.name, "date_format_mix"))
        return DATE_FORMATS[name](value)

    def _sex(
        self, column: Column, value: Value, style: FileStyle, light: bool, log: NoiseLog
    ) -> Cell:
        if not isinstance(value, str) or not value:
            return ""
        rng = self.dice.rng
        roll = rng.random()
        if roll < 0.015:
            log.append((column.name, "sex_unknown"))
            return rng.choice(("", "", "0", "9"))
        styles = SEX_STYLES[style.sex_style]
        if roll < 0.015 + style.sex_mix:
            styles = SEX_STYLES[rng.choice(tuple(SEX_STYLES))]
        return styles[value]

    def _phone(
        self, column: Column, value: Value, style: FileStyle, light: bool, log: NoiseLog
    ) -> Cell:
        if not isinstance(value, str) or not value:
            return ""
        roll = self.dice.rng.random()
        if roll < 0.03 and not light:
            log.append((column.name, "phone_missing"))
            return ""
        for threshold, kind, write in PHONE_FORMATS:
            if roll < threshold:
                if kind:
                    log.append((column.name, kind))
                return write(value)
        return value

    def _code(
        self, column: Column, value: Value, style: FileStyle, light: bool, log: NoiseLog
    ) -> Cell:
        if not isinstance(value, str) or not value:
            return ""
        if self.dice.rng.random() < 0.01:
            log.append((column.name, "code_full_width"))
            return full_width(value)
        return value

    def _text(
        self, column: Column, value: Value, style: FileStyle, light: bool, log: NoiseLog
    ) -> Cell:
        if not isinstance(value, str) or not value:
            return ""
        if self.dice.rng.random() < 0.04:
            log.append((column.name, "text_full_width"))
            return full_width(value)
        return value

    def _enum(
        self, column: Column, value: Value, style: FileStyle, light: bool, log: NoiseLog
    ) -> Cell:
        if not isinstance(value, str) or not value:
            return ""
        if self.dice.rng.random() < 0.005:
            log.append((column.name, "enum_spaces"))
            return f" {value} "
        return value
