"""Step 3, places (feeds.md §3): fill missing hukou and residence codes from address text.

A missing code is looked up from the address against the division table: the county whose
name appears in the text (its city's and province's names break ties; a county name that
several counties share needs its city in the text), then a town and a village of that
county named in the text. Failing that, a hukou code is taken from the first six digits of
a valid ID number, marked ``id_prefix``: that is where the child was first registered, not
necessarily the hukou place today.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from tonghu.pipeline.duck import Connection, run

DIVISION_COLUMNS = ("code", "name", "level", "parent_code", "central_urban")

_COUNTY_NAMES = r"""
CREATE OR REPLACE TEMP TABLE county_names AS
SELECT county.code, county.name,
    regexp_replace(city.name, '(市|地区|盟|自治州)$', '') AS city_short,
    regexp_replace(province.name, '(省|市|(壮族|回族|维吾尔)?自治区|特别行政区)$', '')
        AS province_short,
    count(*) OVER (PARTITION BY county.name) AS same_name
FROM divisions AS county
LEFT JOIN divisions AS city ON city.code = county.parent_code
LEFT JOIN divisions AS province ON province.code = city.parent_code
WHERE county.level = 'county' AND length(county.name) >= 2
"""

_ADDRESSES = """
CREATE OR REPLACE TEMP TABLE addresses AS
SELECT DISTINCT address FROM (
    SELECT hukou_address AS address FROM feed_rows WHERE hukou_code IS NULL
    UNION ALL
    SELECT residence_address FROM feed_rows WHERE residence_code IS NULL
) WHERE address IS NOT NULL
"""

_ADDRESS_COUNTY = """
CREATE OR REPLACE TEMP TABLE address_county AS
SELECT address, code FROM (
    SELECT a.address, k.code, k.same_name,
        2 * contains(a.address, k.city_short)::INTEGER
            + contains(a.address, k.province_short)::INTEGER AS score
    FROM addresses AS a JOIN county_names AS k ON contains(a.address, k.name)
)
WHERE same_name = 1 OR score >= 2
QUALIFY score = max(score) OVER (PARTITION BY address)
    AND count(*) OVER (PARTITION BY address, score) = 1
"""

# The most specific division named in the address, one level at a time.
_NARROW = """
CREATE OR REPLACE TEMP TABLE {target} AS
SELECT p.address, coalesce(m.code, p.code) AS code
FROM {parent} AS p
LEFT JOIN (
    SELECT p.address, d.code
    FROM {parent} AS p
    JOIN divisions AS d ON d.parent_code = p.code AND d.level = '{level}'
        AND contains(p.address, d.name)
    QUALIFY count(*) OVER (PARTITION BY p.address) = 1
) AS m USING (address)
"""

# A view, not a copy: the (wide) rows are read once, when the outcome is written.
_LOCATED = """
CREATE OR REPLACE TEMP VIEW located AS
SELECT r.* REPLACE (
        coalesce(r.hukou_code, hukou_place.code,
                 CASE WHEN r.id_valid THEN rpad(r.id_number[1:6], 12, '0') END) AS hukou_code,
        coalesce(r.residence_code, residence_place.code) AS residence_code),
    CASE WHEN r.hukou_code IS NOT NULL THEN 'code'
         WHEN hukou_place.code IS NOT NULL THEN 'address'
         WHEN r.id_valid THEN 'id_prefix' END AS hukou_origin,
    CASE WHEN r.residence_code IS NOT NULL THEN 'code'
         WHEN residence_place.code IS NOT NULL THEN 'address' END AS residence_origin
FROM feed_rows AS r
LEFT JOIN address_place AS hukou_place
    ON r.hukou_code IS NULL AND hukou_place.address = r.hukou_address
LEFT JOIN address_place AS residence_place
    ON r.residence_code IS NULL AND residence_place.address = r.residence_address
"""


def resolve_places(con: Connection, *, divisions: pa.Table) -> None:
    """Create the view ``located``: ``feed_rows`` with missing codes resolved, origins marked."""
    con.register("divisions_arrow", divisions.select(list(DIVISION_COLUMNS)))
    run(con, "CREATE OR REPLACE TEMP TABLE divisions AS SELECT * FROM divisions_arrow")
    run(con, _COUNTY_NAMES)
    run(con, _ADDRESSES)
    run(con, _ADDRESS_COUNTY)
    run(con, _NARROW.format(target="address_town", parent="address_county", level="town"))
    run(con, _NARROW.format(target="address_place", parent="address_town", level="village"))
    run(con, _LOCATED)


def read_division_table(path: Path) -> pa.Table:
    """A division table file (feeds.md §5) as the batch steps take it: codes kept as text."""
    types = {"code": pa.string(), "parent_code": pa.string(), "central_urban": pa.string()}
    table: pa.Table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(column_types=types))
    return table.select(list(DIVISION_COLUMNS))
