"""Step 3, places (feeds.md §3): fill missing hukou and residence codes from address text.

Addresses are read as clerks and schools write them: with or without province and city,
with a county name that several counties share, abbreviated, or naming only a town and a
village. Every division name of the table is looked for in the text (a whole name; where
two found names overlap, the longer wins), and then:

1. The counties named. A two-character name (``叶县``, ``东区``) counts only at the start of
   the text or after its city's or province's name, and a county name that comes after a
   town or village name is part of a street or estate name, not the address's county. A name
   without its suffix (``新华`` for ``新华区``) counts only right after its city's name, only
   if no other county of that city shares it, and only when the text ends there or goes on
   with a town or village of that county.
2. Several counties named (a shared name such as ``新华区``) are settled, in this order, by
   the city or province named before them; by the towns and villages named after them, when
   the table knows them for only one of those counties; for a residence, by the round's
   county; and last, row by row, by the record's other codes: the stated hukou code (for a
   residence) and a valid ID number's first six digits, when they agree with exactly one of
   the counties left. What none of these settles stays empty: never guessed.
3. A residence address that names no county is read within the round's county (``county``,
   else the one county whose towns and villages the table holds): the county is known only
   if the text names one of its towns or villages. A hukou address is never read this way:
   a child's hukou is often elsewhere, and town names such as ``城关镇`` recur everywhere.
4. Within the county: the one town named, then the one village named (of that town if a
   town was found). A town name without its ``镇``/``乡``/``街道`` (``焦店`` for ``焦店镇``,
   ``光明路`` for ``光明路街道``) counts only when followed by another town suffix or by one
   of its own villages: otherwise it is most often a road (``光明路``) or part of one.

Failing all that, a hukou code is taken from the first six digits of a valid ID number,
marked ``id_prefix``: that is where the child was first registered, not necessarily the
hukou place today. A residence address that stays without a code is warned on its row:
``residence_ambiguous`` when several counties remained, else ``residence_unresolved``.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

from tonghu.pipeline.duck import Connection, quote, run

DIVISION_COLUMNS = ("code", "name", "level", "parent_code", "central_urban")

# The 55 minority peoples (and 各, as in 各族): autonomous prefectures and counties carry them.
_PEOPLE_NAMES = (
    "蒙古 回 藏 维吾尔 苗 彝 壮 布依 朝鲜 满 侗 瑶 白 土家 哈尼 哈萨克 傣 黎 傈僳 佤 畲 高山 "
    "拉祜 水 东乡 纳西 景颇 柯尔克孜 土 达斡尔 仫佬 羌 布朗 撒拉 毛南 仡佬 锡伯 阿昌 普米 "
    "塔吉克 怒 乌孜别克 俄罗斯 鄂温克 德昂 保安 裕固 京 塔塔尔 独龙 鄂伦春 赫哲 门巴 珞巴 基诺 各"
)
_PEOPLES = "|".join(sorted(_PEOPLE_NAMES.split(), key=len, reverse=True))
_CITY_SUFFIX = f"(({_PEOPLES})族)*({_PEOPLES})族?自治州$|地区$|盟$|市$"
_PROVINCE_SUFFIX = "(壮族|回族|维吾尔)?自治区$|特别行政区$|省$|市$"
_COUNTY_SUFFIX = f"(({_PEOPLES})族)*({_PEOPLES})族?自治(县|旗)$|特区$|[区县市旗]$"
_TOWN_SUFFIX = "(街道办事处|街道|办事处|镇|乡|苏木)$"
_TOWN_SUFFIXES = "^(街道|办事处|镇|乡)"  # what may follow a town's short name

_DIVISIONS = """
CREATE OR REPLACE TEMP TABLE divisions AS
SELECT *, code[1:6] AS county6 FROM divisions_arrow WHERE name IS NOT NULL
"""

# Each county with its city's and province's names, whole and short; a city such as 市辖区
# or 省直辖县级行政区划 has no name an address would use.
_COUNTIES = """
CREATE OR REPLACE TEMP TABLE place_counties AS
SELECT county.code, county.county6, county.name,
    nullif(regexp_replace(county.name, $county, ''), county.name) AS short,
    city.code AS city_code,
    CASE WHEN city.name NOT IN ('市辖区', '县') AND city.name NOT LIKE '%直辖%'
        THEN city.name END AS city,
    CASE WHEN city.name NOT IN ('市辖区', '县') AND city.name NOT LIKE '%直辖%'
        THEN regexp_replace(city.name, $city, '') END AS city_short,
    regexp_replace(province.name, $province, '') AS province_short
FROM divisions AS county
LEFT JOIN divisions AS city ON city.code = county.parent_code
LEFT JOIN divisions AS province ON province.code = city.parent_code
WHERE county.level = 'county' AND length(county.name) >= 2
"""

# Every name looked for in the text: ``core`` is the length of the division's own name at
# its end (a county's short name is looked for only after its city's name).
_NAMES = """
CREATE OR REPLACE TEMP TABLE place_names AS
WITH short_counties AS (
    SELECT * FROM place_counties
    WHERE length(short) >= 2 AND city_short IS NOT NULL
    QUALIFY count(*) OVER (PARTITION BY city_code, short) = 1
), towns AS (
    SELECT *, regexp_replace(name, $town, '') AS short FROM divisions WHERE level = 'town'
), short_towns AS (
    SELECT * FROM towns
    WHERE length(short) >= 2 AND short <> name
        AND short NOT IN (SELECT name FROM divisions AS d WHERE d.county6 = towns.county6)
    QUALIFY count(*) OVER (PARTITION BY county6, short) = 1
)
SELECT code, county6, level, parent_code, name, length(name) AS core, false AS short
FROM divisions WHERE level IN ('county', 'town', 'village') AND length(name) >= 2
UNION ALL
SELECT DISTINCT code, county6, 'county', NULL, prefix || short, length(short), true
FROM short_counties, unnest([city, city_short]) AS p(prefix)
UNION ALL
SELECT code, county6, 'town', parent_code, short, length(short), true FROM short_towns
"""

# Addresses longer than this are not read for places (left unresolved and warned): a real
# address is under a hundred characters, and reading looks at every position of the text, so
# a hostile cell of a million characters would cost memory in proportion to its length.
LONGEST_ADDRESS = 200

_ADDRESSES = """
CREATE OR REPLACE TEMP TABLE place_addresses AS
SELECT row_number() OVER () AS aid, address FROM (
    SELECT DISTINCT address FROM (
        SELECT hukou_address AS address FROM feed_rows WHERE hukou_code IS NULL
        UNION ALL
        SELECT residence_address FROM feed_rows WHERE residence_code IS NULL
    ) WHERE length(address) BETWEEN 2 AND $longest
)
"""

# Every name in every address, found by its last character and length: a hash join on the
# substrings that end where a name could end, instead of testing every name on every text.
# What the later rules ask of the text around a name is taken here, the text left behind:
# whether it ends the text, whether a town suffix follows it, and a county's score, 2 if its
# city's name comes before it and 1 if its province's name does.
_FOUND = """
CREATE OR REPLACE TEMP TABLE place_found AS
WITH ends AS (
    SELECT DISTINCT right(name, 1) AS last, length(name) AS len FROM place_names
), stops AS (
    SELECT aid, address, unnest(range(2, length(address) + 1)) AS stop
    FROM place_addresses
), pieces AS (
    SELECT s.aid, s.address, s.stop - e.len + 1 AS start, s.stop,
        substr(s.address, s.stop - e.len + 1, e.len) AS piece
    FROM stops AS s JOIN ends AS e ON e.last = substr(s.address, s.stop, 1) AND e.len <= s.stop
)
SELECT p.aid, p.start, p.stop, n.code, n.county6, n.level, n.parent_code, n.short, n.core,
    p.stop = length(p.address) AS at_end,
    n.level = 'town' AND n.short
        AND regexp_matches(substr(p.address, p.stop + 1, 3), $suffixes) AS suffixed,
    CASE WHEN n.level = 'county' THEN
        2 * coalesce(contains(substr(p.address, 1, p.stop - n.core), k.city_short), false)
            ::INTEGER
        + coalesce(contains(substr(p.address, 1, p.stop - n.core), k.province_short), false)
            ::INTEGER
    END AS score
FROM pieces AS p JOIN place_names AS n ON n.name = p.piece
LEFT JOIN place_counties AS k ON n.level = 'county' AND k.code = n.code
"""

# Which names found count (see the module's notes); then the longer of two overlapping
# names wins, and a county named after a town or village is dropped.
_MENTIONS = """
CREATE OR REPLACE TEMP TABLE place_mentions AS
WITH towns AS (
    SELECT f.* FROM place_found AS f
    WHERE NOT (f.level = 'town' AND f.short) OR f.suffixed
        OR EXISTS (SELECT 1 FROM place_found AS v
                   WHERE v.aid = f.aid AND v.level = 'village' AND NOT v.short
                       AND v.parent_code = f.code AND v.start = f.stop + 1)
), counties AS (
    SELECT f.* FROM towns AS f
    WHERE NOT (f.level = 'county' AND f.short) OR f.at_end
        OR EXISTS (SELECT 1 FROM towns AS t
                   WHERE t.aid = f.aid AND t.level IN ('town', 'village')
                       AND t.county6 = f.county6 AND t.start = f.stop + 1)
), kept AS (
    SELECT * FROM counties
    WHERE level <> 'county' OR short OR core > 2 OR start = 1 OR score > 0
), spans AS (  -- a span is covered if one before it (or as early and longer) ends no sooner
    SELECT aid, start, stop, stop <= max(stop) OVER (
            PARTITION BY aid ORDER BY start, stop DESC
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS covered
    FROM (SELECT DISTINCT aid, start, stop FROM kept)
), longest AS (
    SELECT f.* FROM kept AS f JOIN spans AS s USING (aid, start, stop)
    WHERE s.covered IS NOT TRUE
), first_local AS (  -- where the first town or village named ends
    SELECT aid, min(stop) AS stop FROM longest WHERE level IN ('town', 'village') GROUP BY aid
)
SELECT f.* EXCLUDE (at_end, suffixed) FROM longest AS f LEFT JOIN first_local AS l USING (aid)
WHERE f.level <> 'county' OR l.stop IS NULL OR l.stop >= f.start
"""

# The counties an address may be in, each with the place found within it: the best scored
# counties named, else (not named) the searched counties whose towns or villages it names.
_CANDIDATES = """
CREATE OR REPLACE TEMP TABLE place_candidates AS
WITH named AS (
    SELECT * FROM (
        SELECT aid, county6, max(score) AS score FROM place_mentions
        WHERE level = 'county' GROUP BY ALL
    ) QUALIFY score = max(score) OVER (PARTITION BY aid)
), counties AS (
    SELECT aid, county6, true AS named FROM named
    UNION ALL
    SELECT DISTINCT aid, county6, false FROM place_mentions
    WHERE level IN ('town', 'village') AND county6 IN (SELECT county6 FROM place_searched)
        AND aid NOT IN (SELECT aid FROM named)
), towns AS (
    SELECT c.aid, c.county6, count(DISTINCT m.code) AS found, any_value(m.code) AS town
    FROM counties AS c JOIN place_mentions AS m
        ON m.aid = c.aid AND m.county6 = c.county6 AND m.level = 'town'
    GROUP BY ALL
), villages AS (
    SELECT c.aid, c.county6, count(DISTINCT m.code) AS found, any_value(m.code) AS village
    FROM counties AS c
    LEFT JOIN towns AS t ON t.aid = c.aid AND t.county6 = c.county6 AND t.found = 1
    JOIN place_mentions AS m
        ON m.aid = c.aid AND m.county6 = c.county6 AND m.level = 'village'
            AND (t.town IS NULL OR m.parent_code = t.town)
    GROUP BY ALL
)
SELECT c.aid, c.county6, c.named,
    coalesce(CASE WHEN v.found = 1 THEN v.village END, CASE WHEN t.found = 1 THEN t.town END,
             c.county6 || '000000') AS code,
    t.aid IS NOT NULL OR v.aid IS NOT NULL AS below
FROM counties AS c
LEFT JOIN towns AS t USING (aid, county6)
LEFT JOIN villages AS v USING (aid, county6)
"""

# One choice per address and kind: the only candidate left once those whose towns or
# villages the text names are preferred, else (a residence) the round's county among them;
# ``candidates`` keeps what is left for the record's own codes to settle.
_CHOICE = """
CREATE OR REPLACE TEMP TABLE place_choice AS
WITH kinds AS (
    SELECT 'residence' AS kind, c.*, c.county6 IN (SELECT county6 FROM place_home) AS home
    FROM place_candidates AS c
    UNION ALL
    SELECT 'hukou', c.*, false FROM place_candidates AS c WHERE c.named
), best AS (
    SELECT * FROM kinds
    QUALIFY below::INTEGER = max(below::INTEGER) OVER (PARTITION BY kind, aid)
)
SELECT kind, address,
    CASE WHEN count(*) = 1 THEN any_value(code) ELSE any_value(code) FILTER (WHERE home) END
        AS code,
    list({'county': county6, 'code': code}) AS candidates
FROM best JOIN place_addresses USING (aid) GROUP BY kind, aid, address
"""

# A view, not a copy: the (wide) rows are read once, when the outcome is written.
_LOCATED = """
CREATE OR REPLACE TEMP VIEW located AS
WITH found AS (
    SELECT r.*,
        coalesce(hukou_place.code, place_settle(hukou_place.candidates,
            [CASE WHEN r.id_valid THEN r.id_number[1:6] END])) AS hukou_found,
        coalesce(residence_place.code, place_settle(residence_place.candidates,
            [r.hukou_code[1:6], CASE WHEN r.id_valid THEN r.id_number[1:6] END]))
            AS residence_found,
        residence_place.address IS NOT NULL AS residence_candidates
    FROM feed_rows AS r
    LEFT JOIN place_choice AS hukou_place
        ON r.hukou_code IS NULL AND hukou_place.kind = 'hukou'
            AND hukou_place.address = r.hukou_address
    LEFT JOIN place_choice AS residence_place
        ON r.residence_code IS NULL AND residence_place.kind = 'residence'
            AND residence_place.address = r.residence_address
)
SELECT * EXCLUDE (hukou_found, residence_found, residence_candidates) REPLACE (
        coalesce(hukou_code, hukou_found,
                 CASE WHEN id_valid THEN rpad(id_number[1:6], 12, '0') END) AS hukou_code,
        coalesce(residence_code, residence_found) AS residence_code,
        CASE WHEN residence_code IS NULL AND residence_address IS NOT NULL
                AND residence_found IS NULL
            THEN list_concat(value_warnings, [{
                'field': 'residence_code',
                'code': CASE WHEN residence_candidates THEN 'residence_ambiguous'
                             ELSE 'residence_unresolved' END}])
            ELSE value_warnings END AS value_warnings),
    CASE WHEN hukou_code IS NOT NULL THEN 'code'
         WHEN hukou_found IS NOT NULL THEN 'address'
         WHEN id_valid THEN 'id_prefix' END AS hukou_origin,
    CASE WHEN residence_code IS NOT NULL THEN 'code'
         WHEN residence_found IS NOT NULL THEN 'address' END AS residence_origin
FROM found
"""

# The one candidate county that the record's own codes point to, if exactly one.
_SETTLE = """
CREATE OR REPLACE MACRO place_settle(candidates, hints) AS CASE
    WHEN len(list_filter(candidates, lambda c: list_contains(hints, c.county))) = 1
    THEN list_filter(candidates, lambda c: list_contains(hints, c.county))[1].code END
"""


def resolve_places(con: Connection, *, divisions: pa.Table, county: str | None = None) -> None:
    """Create the view ``located``: ``feed_rows`` with missing codes resolved, origins marked.

    ``county`` is the round's county (its 6- or 12-digit code) if known: a residence address
    naming no county is read within it, and a county name it shares is settled by it. If
    None, the table's own county serves: the one county whose towns and villages it holds.
    """
    con.register("divisions_arrow", divisions.select(list(DIVISION_COLUMNS)))
    run(con, _DIVISIONS)
    con.unregister("divisions_arrow")
    _home(con, county)
    run(con, _SETTLE)
    steps = (_COUNTIES, _NAMES, _ADDRESSES, _FOUND, _MENTIONS, _CANDIDATES, _CHOICE, _LOCATED)
    for sql in steps:
        run(con, _fill(sql))


def _home(con: Connection, county: str | None) -> None:
    """``place_searched``: the counties whose towns and villages an address naming no county
    is read against; ``place_home``: the round's county (none if the table holds several)."""
    if county is not None:
        run(
            con,
            f"CREATE OR REPLACE TEMP TABLE place_searched AS SELECT {quote(county[:6])} AS county6",
        )
    else:
        run(
            con,
            """CREATE OR REPLACE TEMP TABLE place_searched AS
            SELECT DISTINCT county6 FROM divisions WHERE level IN ('town', 'village')""",
        )
    run(
        con,
        """CREATE OR REPLACE TEMP TABLE place_home AS
        SELECT * FROM place_searched WHERE (SELECT count(*) FROM place_searched) = 1""",
    )


def _fill(sql: str) -> str:
    return (
        sql.replace("$county", quote(_COUNTY_SUFFIX))
        .replace("$city", quote(_CITY_SUFFIX))
        .replace("$province", quote(_PROVINCE_SUFFIX))
        .replace("$town", quote(_TOWN_SUFFIX))
        .replace("$suffixes", quote(_TOWN_SUFFIXES))
        .replace("$longest", str(LONGEST_ADDRESS))
    )


def read_division_table(path: Path) -> pa.Table:
    """A division table file (feeds.md §5) as the batch steps take it: codes kept as text."""
    types = {"code": pa.string(), "parent_code": pa.string(), "central_urban": pa.string()}
    table: pa.Table = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(column_types=types))
    return table.select(list(DIVISION_COLUMNS))
