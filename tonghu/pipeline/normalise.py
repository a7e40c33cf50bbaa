"""Step 2, normalise (feeds.md §3–4): raw text cells to typed values, warnings and reject reasons.

Everything here is SQL run by DuckDB over a whole block of rows at once. The value rules
live in the macros below, one per kind of column; ``normalise_block`` writes one SELECT per
block from the source's column table.
"""

from __future__ import annotations

from tonghu.pipeline.duck import Connection, ident, quote, run
from tonghu.pipeline.read import Block
from tonghu.pipeline.sources import Kind, all_fields

FULL_WIDTH = "".join(chr(code) for code in range(0xFF01, 0xFF5F)) + "\u3000"
HALF_WIDTH = "".join(chr(code) for code in range(0x21, 0x7F)) + " "
DATE_PLACEHOLDERS = ("不详", "待补录", "未知", "无", "空", "-", "--", "/", "0", "00000000")
_SQL_TYPES = {Kind.DATE: "DATE", Kind.BOOL: "BOOLEAN"}

# DuckDB macros, one per value rule. ``$full``/``$half`` are filled in once below.
_MACROS = r"""
CREATE OR REPLACE MACRO half(s) AS translate(s, '$full', '$half');
CREATE OR REPLACE MACRO blank(s) AS s IS NULL OR trim(half(s)) = '';
CREATE OR REPLACE MACRO ntext(s) AS nullif(trim(regexp_replace(half(s), '\s+', ' ', 'g')), '');
CREATE OR REPLACE MACRO nname(s) AS nullif(
    trim(regexp_replace(regexp_replace(half(s), '\s+', '', 'g'), '[·•‧・.]+', '·', 'g'), '·'),
    '');
CREATE OR REPLACE MACRO nsex(s) AS CASE upper(trim(half(s)))
    WHEN '男' THEN '男' WHEN '1' THEN '男' WHEN 'M' THEN '男' WHEN '男性' THEN '男'
    WHEN '女' THEN '女' WHEN '2' THEN '女' WHEN 'F' THEN '女' WHEN '女性' THEN '女'
    END;
CREATE OR REPLACE MACRO sex_unknown(s) AS blank(s) OR trim(half(s)) IN ('0', '9', '未知', '不详');
CREATE OR REPLACE MACRO nbool(s) AS CASE upper(trim(half(s)))
    WHEN '是' THEN true WHEN 'Y' THEN true WHEN '1' THEN true WHEN '有' THEN true
    WHEN '否' THEN false WHEN 'N' THEN false WHEN '0' THEN false WHEN '无' THEN false
    END;
CREATE OR REPLACE MACRO nphone(s) AS CASE
    WHEN regexp_full_match(regexp_replace(regexp_replace(half(s), '[\s\-()]', '', 'g'),
                                          '^(\+?86)', ''), '1\d{10}')
    THEN regexp_replace(regexp_replace(half(s), '[\s\-()]', '', 'g'), '^(\+?86)', '') END;
CREATE OR REPLACE MACRO ncode(s) AS CASE
    WHEN regexp_full_match(regexp_replace(half(s), '\s', '', 'g'), '\d{6}|\d{9}|\d{12}')
    THEN rpad(regexp_replace(half(s), '\s', '', 'g'), 12, '0') END;
CREATE OR REPLACE MACRO ymd(y, m, d) AS CASE
    WHEN TRY_CAST(y AS INTEGER) BETWEEN 1900 AND 2100
    THEN try(make_date(TRY_CAST(y AS INTEGER), TRY_CAST(m AS INTEGER), TRY_CAST(d AS INTEGER)))
    END;
CREATE OR REPLACE MACRO ndate_text(s) AS CASE
    WHEN regexp_full_match(s, '\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?([ T].*)?')
    THEN ymd(regexp_extract(s, '^(\d{4})', 1),
             regexp_extract(s, '^\d{4}[-/.年](\d{1,2})', 1),
             regexp_extract(s, '^\d{4}[-/.年]\d{1,2}[-/.月](\d{1,2})', 1))
    WHEN regexp_full_match(s, '\d{8}')
    THEN ymd(s[1:4], s[5:6], s[7:8])
    -- An Excel serial day number: day 1 is 1900-01-01, with Excel's phantom 1900-02-29.
    WHEN regexp_full_match(s, '\d{1,5}(\.0+)?') AND TRY_CAST(s AS DOUBLE) BETWEEN 61 AND 73050
    THEN DATE '1899-12-30' + CAST(floor(TRY_CAST(s AS DOUBLE)) AS INTEGER)
    END;
CREATE OR REPLACE MACRO ndate(s) AS ndate_text(trim(half(s)));
CREATE OR REPLACE MACRO date_placeholder(s) AS blank(s) OR trim(half(s)) IN $placeholders;
CREATE OR REPLACE MACRO id_clean(s) AS upper(regexp_replace(half(s), '\s', '', 'g'));
CREATE OR REPLACE MACRO id_check(s) AS substr('10X98765432', (list_sum(list_transform(
    range(1, 18),
    lambda i: (ascii(substr(s, i, 1)) - 48) * [7,9,10,5,8,4,2,1,6,3,7,9,10,5,8,4,2][i]
)) % 11)::INTEGER + 1, 1);
CREATE OR REPLACE MACRO id_upgrade(s) AS CASE
    WHEN regexp_full_match(s, '\d{15}')
    THEN s[1:6] || '19' || s[7:15] || id_check(s[1:6] || '19' || s[7:15])
    ELSE s END;
CREATE OR REPLACE MACRO nid(s) AS nullif(id_upgrade(id_clean(s)), '');
CREATE OR REPLACE MACRO id_valid(n) AS coalesce(
    regexp_full_match(n, '\d{17}[\dX]') AND id_check(n) = n[18:18]
    AND ymd(n[7:10], n[11:12], n[13:14]) IS NOT NULL, false);
CREATE OR REPLACE MACRO id_birth(n) AS CASE
    WHEN id_valid(n) THEN ymd(n[7:10], n[11:12], n[13:14]) END;
CREATE OR REPLACE MACRO id_sex(n) AS CASE
    WHEN id_valid(n) AND TRY_CAST(n[17:17] AS INTEGER) % 2 = 1 THEN '男'
    WHEN id_valid(n) THEN '女' END;
CREATE OR REPLACE MACRO warn(cond, field, code) AS CASE
    WHEN cond THEN {'field': field, 'code': code} END;
"""


def install_macros(con: Connection) -> None:
    placeholders = "(" + ", ".join(quote(text) for text in DATE_PLACEHOLDERS) + ")"
    sql = (
        _MACROS.replace("$full", FULL_WIDTH)
        .replace("$half", HALF_WIDTH.replace("'", "''"))
        .replace("$placeholders", placeholders)
    )
    con.execute(sql)


def _typed(field: str, kind: Kind, present: bool) -> str:
    """The typed expression for one normalised field (NULL where the block lacks it)."""
    column = ident(field)
    if not present:
        return f"CAST(NULL AS {_SQL_TYPES.get(kind, 'VARCHAR')}) AS {column}"
    expression = {
        Kind.TEXT: f"ntext({column})",
        Kind.ENUM: f"ntext({column})",
        Kind.NAME: f"nname({column})",
        Kind.ID: f"nid({column})",
        Kind.DATE: f"ndate({column})",
        Kind.SEX: f"nsex({column})",
        Kind.PHONE: f"nphone({column})",
        Kind.DIVISION: f"ncode({column})",
        Kind.BOOL: f"nbool({column})",
    }[kind]
    return f"{expression} AS {column}"


def _warning(field: str, kind: Kind, values: tuple[str, ...]) -> str | None:
    """The warning a raw value raises when it is given but cannot be used."""
    raw = ident(field)
    given = f"NOT blank({raw})"
    condition = {
        Kind.ID: f"{given} AND NOT id_valid(nid({raw}))",
        Kind.DATE: f"NOT date_placeholder({raw}) AND ndate({raw}) IS NULL",
        Kind.SEX: f"NOT sex_unknown({raw}) AND nsex({raw}) IS NULL",
        Kind.PHONE: f"{given} AND nphone({raw}) IS NULL",
        Kind.DIVISION: f"{given} AND ncode({raw}) IS NULL",
        Kind.BOOL: f"{given} AND nbool({raw}) IS NULL",
        Kind.ENUM: f"{given} AND ntext({raw}) NOT IN ({', '.join(quote(v) for v in values)})",
    }.get(kind)
    if condition is None:
        return None
    code = {
        Kind.ID: "invalid_id",
        Kind.DATE: "bad_date",
        Kind.SEX: "bad_sex",
        Kind.PHONE: "bad_phone",
        Kind.DIVISION: "bad_division_code",
        Kind.BOOL: "bad_yes_no",
        Kind.ENUM: "unknown_value",
    }[kind]
    return f"warn({condition}, {quote(field)}, {quote(code)})"


def normalise_block(con: Connection, block: Block, *, view: str) -> None:
    """Create ``view``: the block's rows with every field of the wide table typed."""
    source = block.source
    present = set(block.fields)
    columns = [
        _typed(name, kind, name in present)
        for name, kind in all_fields().items()
        if name != "record_key"
    ]
    warnings = [
        warning
        for column in source.columns
        if column.field in present
        and (warning := _warning(column.field, column.kind, column.values)) is not None
    ]
    id_expression = "id_number"
    if source.name == "disability_cert":
        # A disability certificate's number is its holder's ID number plus two digits.
        id_expression = "nid(record_key[1:18])"
        warnings.append(
            "warn(NOT id_valid(nid(ntext(record_key)[1:18])), 'record_key', 'invalid_id')"
        )
    raw_fields = ", ".join(f"coalesce({ident(name)}, '')" for name in block.fields)
    run(
        con,
        f"""
        CREATE OR REPLACE TEMP VIEW {view} AS
        WITH typed AS (
            SELECT
                {quote(source.name)} AS source,
                {quote(block.file)} AS file,
                {quote(block.sheet)} AS sheet,
                {block.order} AS block_order,
                __row AS row,
                __raw AS raw,
                md5(concat_ws(chr(31), {raw_fields})) AS content_hash,
                ntext(record_key) AS record_key,
                {", ".join(columns)},
                list_filter([{", ".join(warnings) or "NULL"}], lambda w: w IS NOT NULL)
                    AS value_warnings
            FROM {block.view}
        )
        SELECT * REPLACE ({id_expression} AS id_number),
            id_valid({id_expression}) AS id_valid,
            id_birth({id_expression}) AS id_birth_date,
            id_sex({id_expression}) AS id_sex
        FROM typed
        """,
    )
