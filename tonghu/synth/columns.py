"""The feed sources and their columns as synth sees them.

Source names, labels, canonical headers, aliases and the record key are the contract's
(feeds.md §2), read from ``tonghu.pipeline.sources``; the sources keep its order, which is
feeds.md's and so also the tie-break order of policy.md. Synth adds only what is its own:
the noise ``Kind`` of each column and each record's own date (policy.md "latest").
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tonghu.pipeline import sources as pipeline


class Kind(StrEnum):
    """What sort of value a column holds, which decides how the noise layer may disturb it."""

    KEY = "key"
    NAME = "name"  # the child's name (required)
    PERSON = "person"  # another person's name: parent, guardian, visitor
    ID = "id"  # the child's ID number
    PARENT_ID = "parent_id"  # a parent's or guardian's ID number
    BIRTH = "birth"  # the child's birth date
    DATE = "date"
    SEX = "sex"
    PHONE = "phone"
    CODE = "code"  # a division code
    TEXT = "text"  # free text such as an address
    ENUM = "enum"  # one of a fixed set of words (状态, 学段, 是/否 ...)


# The noise kind of a contract kind, unless the column's field is listed below.
_KIND_OF_CONTRACT_KIND: dict[pipeline.Kind, Kind] = {
    pipeline.Kind.TEXT: Kind.TEXT,
    pipeline.Kind.NAME: Kind.PERSON,
    pipeline.Kind.ID: Kind.PARENT_ID,
    pipeline.Kind.DATE: Kind.DATE,
    pipeline.Kind.SEX: Kind.SEX,
    pipeline.Kind.PHONE: Kind.PHONE,
    pipeline.Kind.DIVISION: Kind.CODE,
    pipeline.Kind.BOOL: Kind.ENUM,
    pipeline.Kind.ENUM: Kind.ENUM,
}
_KIND_OF_FIELD: dict[str, Kind] = {
    "record_key": Kind.KEY,
    # The child's own name, ID and birth date: the truth depends on them.
    "name": Kind.NAME,
    "id_number": Kind.ID,
    "birth_date": Kind.BIRTH,
    # Text in the contract, but a person's name or one of a few fixed words here.
    "actual_guardian": Kind.PERSON,
    "grade": Kind.ENUM,
    "income_source": Kind.ENUM,
    "disability_category": Kind.ENUM,
    "disability_grade": Kind.ENUM,
}
# The record's own date (policy.md "latest"), in order of preference; none for the rest.
RECORD_DATES: dict[str, tuple[str, ...]] = {
    "police_residence": ("居住登记日期",),
    "edu_migrant": ("入学日期",),
    "health_child": ("建档日期",),
    "cdc_vaccination": ("最近接种日期", "本地首次接种日期"),
    "self_declaration": ("申报日期",),
    "visit_survey": ("走访日期",),
}


@dataclass(frozen=True)
class Column:
    name: str  # the canonical header; records hold their values under it
    field: str  # the pipeline's normalised field
    kind: Kind


@dataclass(frozen=True)
class Source:
    name: str
    label: str
    key: str  # canonical header of the record key
    columns: tuple[Column, ...]
    date_columns: tuple[str, ...]  # RECORD_DATES
    contract: pipeline.Source

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)


def _column(column: pipeline.Column) -> Column:
    kind = _KIND_OF_FIELD.get(column.field, _KIND_OF_CONTRACT_KIND[column.kind])
    return Column(column.header, column.field, kind)


def _source(source: pipeline.Source) -> Source:
    synth = Source(
        name=source.name,
        label=source.label,
        key=source.column(source.key).header,
        columns=tuple(_column(column) for column in source.columns),
        date_columns=RECORD_DATES.get(source.name, ()),
        contract=source,
    )
    for name in synth.date_columns:
        synth.column(name)  # a KeyError here: RECORD_DATES names a column the contract lacks
    return synth


SOURCES: tuple[Source, ...] = tuple(_source(source) for source in pipeline.SOURCES)
SOURCE_BY_NAME: dict[str, Source] = {source.name: source for source in SOURCES}
SOURCE_ORDER: dict[str, int] = {source.name: index for index, source in enumerate(SOURCES)}
