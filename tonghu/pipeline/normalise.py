"""Step 2, normalise (feeds.md §3–4): raw text cells to typed values, warnings and reject reasons.

Everything here is SQL run by DuckDB over a whole block of rows at once, in layers so that
each value is worked on once:

1. ``folded``: every cell trimmed, folded to half width in the rows that hold any
   full-width character, and with invisible characters (controls, zero-width spaces, BOMs,
   line separators) made spaces in the rows that hold any (each asked once per row: the
   folding is the costly part);
2. ``typed``: each field read by the macro of its kind (``nname``, ``ndate``, ``nid`` ...);
3. ``checked``: ID numbers checked once (MOD 11-2, date), birth date and sex read from them;
4. the warnings of the values that were given but could not be used.

The value rules live in the macros below; ``normalise_block`` writes the layers from the
source's column table.
"""

from __future__ import annotations

import re

from tonghu.pipeline.duck import Connection, ident, quote, run
from tonghu.pipeline.read import Block
from tonghu.pipeline.sources import Column, Kind, all_fields

FULL_WIDTH = "".join(chr(code) for code in range(0xFF01, 0xFF5F)) + "\u3000"
HALF_WIDTH = "".join(chr(code) for code in range(0x21, 0x7F)) + " "
DATE_PLACEHOLDERS = ("不详", "待补录", "未知", "无", "空", "-", "--", "/", "0", "00000000")
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
# The longest child's name and record key the ledger holds (tonghu.children.models:
# Child.name, ChildRecord.record_key): a longer name names nobody, a longer key is no key.
NAME_MAX_LENGTH = 50
KEY_MAX_LENGTH = 64
INVISIBLE = r"[\x00-\x08\x0B\x0C\x0E-\x1E\x7F\x{200B}-\x{200F}\x{2028}\x{2029}\x{2060}\x{FEFF}]"
_SQL_TYPES = {Kind.DATE: "DATE", Kind.BOOL: "BOOLEAN"}
_ID_SUM = " + ".join(
    f"(ascii(s[{position}]) - 48) * {weight}" for position, weight in enumerate(ID_WEIGHTS, 1)
)

# DuckDB macros, one per value rule, over folded text (layer 1). ``$...`` are filled below.
_MACROS = r"""
CREATE OR REPLACE MACRO has_wide(s) AS regexp_matches(s, '[\x{FF01}-\x{FF5E}\x{3000}]');
-- Control characters (but the unit separator that joins a row's cells), zero-width and
-- directional marks, line and paragraph separators, word joiner, BOM.
CREATE OR REPLACE MACRO has_invisible(s) AS regexp_matches(s, '$invisible');
CREATE OR REPLACE MACRO visible(s, invisible) AS
    CASE WHEN invisible THEN regexp_replace(s, '$invisible', ' ', 'g') ELSE s END;
CREATE OR REPLACE MACRO fold_if(s, wide, invisible) AS nullif(trim(visible(
    CASE WHEN wide THEN translate(s, '$full', '$half') ELSE s END, invisible)), '');
CREATE OR REPLACE MACRO fold(s) AS fold_if(s, has_wide(s), has_invisible(s));
CREATE OR REPLACE MACRO ntext(s) AS regexp_replace(s, '\s+', ' ', 'g');
CREATE OR REPLACE MACRO nname(s) AS nullif(
    trim(regexp_replace(regexp_replace(s, '\s+', '', 'g'), '[·•‧・.]+', '·', 'g'), '·'), '');
CREATE OR REPLACE MACRO nsex(s) AS CASE upper(s)
    WHEN '男' THEN '男' WHEN '1' THEN '男' WHEN 'M' THEN '男' WHEN '男性' THEN '男'
    WHEN '女' THEN '女' WHEN '2' THEN '女' WHEN 'F' THEN '女' WHEN '女性' THEN '女'
    END;
CREATE OR REPLACE MACRO sex_unknown(s) AS s IS NULL OR regexp_full_match(s, '0|9|未知|不详');
CREATE OR REPLACE MACRO nbool(s) AS CASE upper(s)
    WHEN '是' THEN true WHEN 'Y' THEN true WHEN '1' THEN true WHEN '有' THEN true
    WHEN '否' THEN false WHEN 'N' THEN false WHEN '0' THEN false WHEN '无' THEN false
    END;
CREATE OR REPLACE MACRO phone_digits(s) AS
    regexp_replace(regexp_replace(s, '[\s\-()]', '', 'g'), '^(\+?86)(1\d{10})$', '\2');
CREATE OR REPLACE MACRO nphone(s) AS CASE
    WHEN regexp_full_match(phone_digits(s), '1\d{10}') THEN phone_digits(s) END;
CREATE OR REPLACE MACRO nenum(s, pattern) AS CASE WHEN regexp_full_match(s, pattern) THEN s END;
CREATE OR REPLACE MACRO ncode(s) AS CASE
    WHEN regexp_full_match(s, '\d{6}|\d{9}|\d{12}') THEN rpad(s, 12, '0') END;
CREATE OR REPLACE MACRO date_part_of(s) AS CASE
    WHEN contains(s, ' ') OR contains(s, 'T') THEN split_part(split_part(s, ' ', 1), 'T', 1)
    ELSE s END;
CREATE OR REPLACE MACRO year_ok(d) AS CASE WHEN year(d) BETWEEN 1900 AND 2100 THEN d END;
-- Each form is told apart by a cheap test first: strptime is slow to fail, so it is
-- never asked to try forms that cannot fit.
CREATE OR REPLACE MACRO ndate_form(d) AS CASE
    WHEN contains(d, '年') THEN try_strptime(d, ['%Y年%m月%d日', '%Y年%m月%d'])
    WHEN contains(d, '-') THEN try_strptime(d, '%Y-%m-%d')
    WHEN contains(d, '/') THEN try_strptime(d, '%Y/%m/%d')
    WHEN contains(d, '.') THEN try_strptime(d, '%Y.%m.%d')
    WHEN length(d) = 8 THEN try_strptime(d, '%Y%m%d')
    END;
CREATE OR REPLACE MACRO ndate(s) AS CASE
    -- An Excel serial day number: day 1 is 1900-01-01, with Excel's phantom 1900-02-29.
    WHEN regexp_full_match(s, '\d{1,5}(\.0+)?') AND TRY_CAST(s AS DOUBLE) BETWEEN 61 AND 73050
    THEN DATE '1899-12-30' + CAST(floor(TRY_CAST(s AS DOUBLE)) AS INTEGER)
    ELSE year_ok(ndate_form(date_part_of(s))::DATE)
    END;
-- Membership is a regular expression, not IN or list_contains: DuckDB plans a list of
-- constants as a join, which costs far more than the test itself.
CREATE OR REPLACE MACRO date_placeholder(s) AS s IS NULL OR regexp_full_match(s, $placeholders);
CREATE OR REPLACE MACRO id_check(s) AS substr('10X98765432', (($id_sum) % 11)::INTEGER + 1, 1);
CREATE OR REPLACE MACRO id_upgrade(s) AS CASE
    WHEN regexp_full_match(s, '\d{15}')
    THEN s[1:6] || '19' || s[7:15] || id_check(s[1:6] || '19' || s[7:15])
    ELSE s END;
CREATE OR REPLACE MACRO nid(s) AS id_upgrade(upper(regexp_replace(s, '\s', '', 'g')));
CREATE OR REPLACE MACRO id_date(n) AS year_ok(try_strptime(n[7:14], '%Y%m%d')::DATE);
CREATE OR REPLACE MACRO id_valid(n) AS coalesce(
    regexp_full_match(n, '\d{17}[\dX]') AND id_check(n) = n[18] AND id_date(n) IS NOT NULL,
    false);
CREATE OR REPLACE MACRO id_birth(n) AS CASE WHEN id_valid(n) THEN id_date(n) END;
CREATE OR REPLACE MACRO id_sex(n) AS CASE
    WHEN id_valid(n) AND TRY_CAST(n[17] AS INTEGER) % 2 = 1 THEN '男'
    WHEN id_valid(n) THEN '女' END;
CREATE OR REPLACE MACRO warn(cond, field, code) AS CASE
    WHEN cond THEN {'field': field, 'code': code} END;
"""

_TYPED = {
    Kind.TEXT: "ntext({})",
    Kind.ENUM: "nenum({}, {values})",  # a value off the list is not used (none has a space)
    Kind.NAME: "nname({})",
    Kind.ID: "nid({})",
    Kind.DATE: "ndate({})",
    Kind.SEX: "nsex({})",
    Kind.PHONE: "nphone({})",
    Kind.DIVISION: "ncode({})",
    Kind.BOOL: "nbool({})",
}
# (condition on the folded text ``{raw}`` and typed value ``{value}``, warning code)
_WARNINGS = {
    Kind.ID: ("{raw} IS NOT NULL AND NOT id_valid({value})", "invalid_id"),
    Kind.DATE: ("NOT date_placeholder({raw}) AND {value} IS NULL", "bad_date"),
    Kind.SEX: ("NOT sex_unknown({raw}) AND {value} IS NULL", "bad_sex"),
    Kind.PHONE: ("{raw} IS NOT NULL AND {value} IS NULL", "bad_phone"),
    Kind.DIVISION: ("{raw} IS NOT NULL AND {value} IS NULL", "bad_division_code"),
    Kind.BOOL: ("{raw} IS NOT NULL AND {value} IS NULL", "bad_yes_no"),
    Kind.ENUM: ("{raw} IS NOT NULL AND {value} IS NULL", "unknown_value"),
}


def one_of(values: tuple[str, ...]) -> str:
    """A regular expression matching exactly one of ``values``."""
    return "|".join(re.escape(value) for value in values)


def install_macros(con: Connection) -> None:
    placeholders = quote(one_of(DATE_PLACEHOLDERS))
    sql = (
        _MACROS.replace("$full", FULL_WIDTH)
        .replace("$half", HALF_WIDTH.replace("'", "''"))
        .replace("$placeholders", placeholders)
        .replace("$id_sum", _ID_SUM)
        .replace("$invisible", INVISIBLE)
    )
    run(con, sql)


def _raw(field: str) -> str:
    return ident(f"raw_{field}")


def _typed(column: Column) -> str:
    """The typed expression for one field of the block."""
    raw = _raw(column.field)
    typed = _TYPED[column.kind].format(raw, values=quote(one_of(column.values)))
    if column.field == "name":  # the child's name: a longer one is no name (missing_name)
        typed = f"CASE WHEN length({raw}) <= {NAME_MAX_LENGTH} OR length({typed}) <= "
        typed += f"{NAME_MAX_LENGTH} THEN {_TYPED[column.kind].format(raw)} END"
    return f"{typed} AS {ident(column.field)}"


def wide_schema(con: Connection, *, table: str) -> None:
    """An empty table with every field of every source, typed: stacked first under the
    blocks (UNION ALL BY NAME), it gives later steps every column even if no block has it."""
    columns = ", ".join(
        f"CAST(NULL AS {_SQL_TYPES.get(kind, 'VARCHAR')}) AS {ident(name)}"
        for name, kind in all_fields().items()
    )
    run(con, f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT {columns} WHERE false")


def _warning(field: str, kind: Kind, values: tuple[str, ...]) -> str | None:
    """The warning a value raises when it was given but cannot be used."""
    rule = _WARNINGS.get(kind)
    if rule is None:
        return None
    if field == "id_number":  # checked once already, in the ``identified`` layer
        return "warn(raw_id_number IS NOT NULL AND NOT id_valid, 'id_number', 'invalid_id')"
    condition, code = rule
    filled = condition.format(raw=_raw(field), value=ident(field), values=quote(one_of(values)))
    return f"warn({filled}, {quote(field)}, {quote(code)})"


def normalise_block(con: Connection, block: Block, *, view: str) -> None:
    """Create ``view``: the block's rows with every field of the wide table typed."""
    source = block.source
    present = set(block.fields)
    # Whether a row holds any full-width character is asked once, of all its cells joined.
    folded = ", ".join(
        f"fold_if({ident(name)}, __wide, __invisible) AS {_raw(name)}" for name in block.fields
    )
    typed_columns = [
        _typed(column)
        for column in source.columns
        if column.field in present and column.field != "record_key"
    ]
    if "id_number" not in present:  # the ID layers below read it in every block
        typed_columns.append("CAST(NULL AS VARCHAR) AS id_number")
    typed = ", ".join(typed_columns)
    warnings = [
        warning
        for column in source.columns
        if column.field in present
        and (warning := _warning(column.field, column.kind, column.values)) is not None
    ]
    # A record key that holds its holder's ID number (Source.id_in_key) gives the ID: the
    # only one where the source has no ID column, else where the row's is missing or broken.
    id_source = "id_number"
    if source.id_in_key is not None:
        embedded = f"nid({source.id_in_key})"
        if "id_number" not in source.fields:
            id_source = embedded
            warnings.append("warn(NOT id_valid, 'record_key', 'invalid_id')")
        else:
            id_source = (
                f"CASE WHEN NOT coalesce(id_valid(id_number), false) AND id_valid({embedded}) "
                f"THEN {embedded} ELSE id_number END"
            )
    raw_columns = ", ".join(_raw(name) for name in block.fields)
    content = ", ".join(f"coalesce({ident(name)}, '')" for name in block.fields)
    run(
        con,
        f"""
        CREATE OR REPLACE TEMP VIEW {view} AS
        WITH joined AS (
            SELECT *, concat_ws(chr(31), {content}) AS __joined FROM {block.view}
        ), folded AS (
            SELECT __row, __raw, md5(__joined) AS content_hash, {folded}
            FROM (SELECT *, has_wide(__joined) AS __wide,
                has_invisible(__joined) AS __invisible FROM joined)
        ), typed AS (
            SELECT *, CASE WHEN length(raw_record_key) <= {KEY_MAX_LENGTH}
                THEN raw_record_key END AS record_key, {typed} FROM folded
        ), checked AS (
            SELECT * REPLACE ({id_source} AS id_number) FROM typed
        ), identified AS (
            SELECT *, id_valid(id_number) AS id_valid FROM checked
        )
        SELECT
            {quote(source.name)} AS source,
            {quote(block.file)} AS file,
            {quote(block.sheet)} AS sheet,
            {block.order} AS block_order,
            __row AS row,
            __raw AS raw,
            * EXCLUDE (__row, __raw, {raw_columns}),
            CASE WHEN id_valid THEN id_date(id_number) END AS id_birth_date,
            CASE WHEN id_valid THEN
                CASE WHEN TRY_CAST(id_number[17] AS INTEGER) % 2 = 1 THEN '男' ELSE '女' END
                END AS id_sex,
            list_filter([{", ".join(warnings) or "NULL"}], lambda w: w IS NOT NULL)
                AS value_warnings
        FROM identified
        """,
    )
