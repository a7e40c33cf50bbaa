"""Places from address text (feeds.md §3), on small division tables and real address shapes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from tonghu.pipeline.duck import Connection, connect
from tonghu.pipeline.ingest import ingest
from tonghu.pipeline.places import resolve_places
from tonghu.pipeline.read import plan_folder
from tonghu.pipeline.tests.test_values import check_char

# code, name, level, parent (county 6 digits + town 3 + village 3)
_NATION = [
    ("110000", "北京市", "province", ""),
    ("110100", "市辖区", "city", "110000"),
    ("110105", "朝阳区", "county", "110100"),
    ("130000", "河北省", "province", ""),
    ("130100", "石家庄市", "city", "130000"),
    ("130105", "新华区", "county", "130100"),
    ("130900", "沧州市", "city", "130000"),
    ("130902", "新华区", "county", "130900"),
    ("220000", "吉林省", "province", ""),
    ("220100", "长春市", "city", "220000"),
    ("220104", "朝阳区", "county", "220100"),
    ("220600", "白山市", "city", "220000"),
    ("220623", "长白朝鲜族自治县", "county", "220600"),
    ("410000", "河南省", "province", ""),
    ("410100", "郑州市", "city", "410000"),
    ("410102", "中原区", "county", "410100"),
    ("410300", "洛阳市", "city", "410000"),
    ("410302", "老城区", "county", "410300"),
    ("410400", "平顶山市", "city", "410000"),
    ("410402", "新华区", "county", "410400"),
    ("410403", "卫东区", "county", "410400"),
    ("410422", "叶县", "county", "410400"),
    ("510000", "四川省", "province", ""),
    ("510400", "攀枝花市", "city", "510000"),
    ("510402", "东区", "county", "510400"),
]
# The round's county, 平顶山市新华区, with its towns and villages.
_HOME = [
    ("410402001", "光明路街道", "town", "410402"),
    ("410402001001", "光光社区", "village", "410402001"),
    ("410402001002", "建设社区", "village", "410402001"),
    ("410402002", "中兴路街道", "town", "410402"),
    ("410402002001", "庆建社区", "village", "410402002"),
    ("410402003", "建设路街道", "town", "410402"),
    ("410402003001", "新村社区", "village", "410402003"),
    ("410402100", "焦店镇", "town", "410402"),
    ("410402100201", "东湾村", "village", "410402100"),
    ("410402100202", "西湾村", "village", "410402100"),
    ("410402100203", "建设村", "village", "410402100"),
]
# A neighbour's town: with it the table holds towns of two counties and names no home.
_NEIGHBOUR = [
    ("410403001", "东安路街道", "town", "410403"),
    ("410403001001", "东湾村", "village", "410403001"),
]


def division_table(rows: list[tuple[str, str, str, str]]) -> pa.Table:
    def full(code: str) -> str | None:
        return code.ljust(12, "0") if code else None

    return pa.table(
        {
            "code": [full(code) for code, *_ in rows],
            "name": [name for _, name, _, _ in rows],
            "level": [level for _, _, level, _ in rows],
            "parent_code": [full(parent) for *_, parent in rows],
            "central_urban": ["0"] * len(rows),
        }
    )


HOME_TABLE = division_table(_NATION + _HOME)
TWO_COUNTY_TABLE = division_table(_NATION + _HOME + _NEIGHBOUR)
NATION_TABLE = division_table(_NATION)

_WARNING = pa.struct([("field", pa.string()), ("code", pa.string())])


@pytest.fixture
def con() -> Iterator[Connection]:
    connection = connect()
    yield connection
    connection.close()


def locate(
    con: Connection,
    rows: list[dict[str, Any]],
    *,
    divisions: pa.Table = HOME_TABLE,
    county: str | None = None,
) -> dict[str, dict[str, Any]]:
    """Each row's located codes, origins and warning codes, by its ``key``."""
    columns = ("key", "hukou_code", "hukou_address", "residence_code", "residence_address")
    table = pa.table(
        {
            **{name: pa.array([row.get(name) for row in rows], pa.string()) for name in columns},
            "id_number": pa.array([row.get("id") for row in rows], pa.string()),
            "id_valid": pa.array([row.get("id") is not None for row in rows], pa.bool_()),
            "value_warnings": pa.array([[] for _ in rows], pa.list_(_WARNING)),
        }
    )
    con.register("rows_arrow", table)
    con.execute("CREATE OR REPLACE TEMP TABLE feed_rows AS SELECT * FROM rows_arrow")
    resolve_places(con, divisions=divisions, county=county)
    cursor = con.execute(
        """SELECT key, residence_code, residence_origin, hukou_code, hukou_origin,
               list_transform(value_warnings, lambda w: w.code) AS warnings
           FROM located ORDER BY key"""
    )
    names = [column[0] for column in cursor.description or ()]
    return {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}


def residences(con: Connection, addresses: list[str], **options: Any) -> dict[str, str | None]:
    """Each residence address's resolved code."""
    found = locate(
        con,
        [{"key": f"{n:03}", "residence_address": text} for n, text in enumerate(addresses)],
        **options,
    )
    return {text: found[f"{n:03}"]["residence_code"] for n, text in enumerate(addresses)}


DONGWAN = "410402100201"
JIAODIAN = "410402100000"
XINHUA = "410402000000"


def test_the_same_village_however_much_of_the_address_is_written(con: Connection) -> None:
    addresses = [
        "河南省平顶山市新华区焦店镇东湾村3组",
        "平顶山市新华区焦店镇东湾村3组",
        "新华区焦店镇东湾村3组",
        "平顶山市新华焦店镇东湾村3组",
        "平顶山新华焦店东湾村",
        "新华焦店镇东湾村3组",
        "焦店镇东湾村3组",
        "焦店东湾村5号",
        "焦店乡东湾村",  # the town was a 乡 before it became a 镇
        "东湾村3组",
    ]
    assert residences(con, addresses) == dict.fromkeys(addresses, DONGWAN)


def test_street_addresses_are_read_within_the_rounds_county(con: Connection) -> None:
    addresses = [
        "中兴路街道庆建社区光华路81号14号楼",
        "新华区光明路街道光光社区中兴路237号",
        "光明路街道幸福小区东区3号楼",  # 东区 is a county of 攀枝花, not this estate's part
        "光明路街道老城区3号楼",  # 老城区 of 洛阳, named after the town: an estate's name
        "光明路光光社区7栋",  # the 街道 written as its road, before one of its communities
        "建设路街道新村社区",
        "光明路办事处幸福小区",  # 街道 once were 办事处
        "新华区焦店乡12组",
    ]
    assert residences(con, addresses) == {
        addresses[0]: "410402002001",
        addresses[1]: "410402001001",
        addresses[2]: "410402001000",
        addresses[3]: "410402001000",
        addresses[4]: "410402001001",
        addresses[5]: "410402003001",
        addresses[6]: "410402001000",
        addresses[7]: JIAODIAN,
    }


def test_road_and_village_words_inside_house_numbers_name_no_place(con: Connection) -> None:
    addresses = [
        "焦店镇建设路村口街12号",  # neither 建设路街道 nor 建设村
        "新华区光明路12号",  # a road, not 光明路街道: the county only
        "新华区中兴路237号",
        "建设路村口街12号",
        "光明路12号院",
        "平顶山市新华路8号",  # 新华路 is a road of 平顶山, not 新华区
    ]
    assert residences(con, addresses) == {
        addresses[0]: JIAODIAN,
        addresses[1]: XINHUA,
        addresses[2]: XINHUA,
        addresses[3]: None,
        addresses[4]: None,
        addresses[5]: None,
    }


def test_a_shared_county_name_is_settled_by_the_city_or_province_written_before_it(
    con: Connection,
) -> None:
    addresses = [
        "河北省石家庄市新华区中华北大街3号",
        "沧州新华区建设北街",
        "北京市朝阳区建国路1号",
        "吉林省长春市朝阳区西安大路",
        "平顶山市叶县叶邑镇",
        "叶县昆阳大道",
        "河南省郑州市中原区建设路1号",
        "吉林省白山市长白",  # 长白朝鲜族自治县, shortened after its city's name
        "郑州市中原路12号",  # a road of 郑州, not 中原区
        "朝阳区建国路1号",  # two 朝阳区 and nothing to settle them
    ]
    assert residences(con, addresses, divisions=NATION_TABLE) == {
        addresses[0]: "130105000000",
        addresses[1]: "130902000000",
        addresses[2]: "110105000000",
        addresses[3]: "220104000000",
        addresses[4]: "410422000000",
        addresses[5]: "410422000000",
        addresses[6]: "410102000000",
        addresses[7]: "220623000000",
        addresses[8]: None,
        addresses[9]: None,
    }


def test_a_shared_county_name_is_settled_by_the_towns_the_table_knows(con: Connection) -> None:
    # Two counties' towns in the table: no home county, yet 光明路街道 is 平顶山新华区's only.
    addresses = ["新华区光明路街道光光社区中兴路237号", "新华区焦店镇东湾村3组"]
    assert residences(con, addresses, divisions=TWO_COUNTY_TABLE) == {
        addresses[0]: "410402001001",
        addresses[1]: DONGWAN,
    }


def test_a_shared_county_name_is_settled_by_the_rounds_county(con: Connection) -> None:
    text = "新华区建华南大街"
    assert residences(con, [text]) == {text: XINHUA}  # the table's own county
    assert residences(con, [text], county="130105") == {text: "130105000000"}
    assert residences(con, [text], divisions=NATION_TABLE, county="130902") == {
        text: "130902000000"
    }
    # The round's county is no candidate: the province named leaves two, nothing settles.
    assert residences(con, ["河北省新华区建华南大街"]) == {"河北省新华区建华南大街": None}


def test_a_shared_county_name_is_settled_by_the_records_other_codes(con: Connection) -> None:
    text = "新华区建设路1号"
    rows = [
        {"key": "hukou", "residence_address": text, "hukou_code": "130105000000"},
        {"key": "id", "residence_address": text, "id": "130902201503020131"},
        {"key": "id-town", "residence_address": "河北省新华区", "id": "130902201503020131"},
        {
            "key": "disagree",
            "residence_address": text,
            "hukou_code": "130105000000",
            "id": "130902201503020131",
        },
        {"key": "elsewhere", "residence_address": text, "hukou_code": "410102000000"},
        {"key": "none", "residence_address": text},
    ]
    found = locate(con, rows, divisions=NATION_TABLE)
    assert {key: row["residence_code"] for key, row in found.items()} == {
        "hukou": "130105000000",
        "id": "130902000000",
        "id-town": "130902000000",
        "disagree": None,
        "elsewhere": None,
        "none": None,
    }
    assert found["hukou"]["residence_origin"] == "address"
    assert found["none"]["warnings"] == ["residence_ambiguous"]
    assert found["disagree"]["warnings"] == ["residence_ambiguous"]
    assert found["hukou"]["warnings"] == []


def test_what_nothing_settles_stays_empty_and_is_warned(con: Connection) -> None:
    rows = [
        {"key": "shared", "residence_address": "新华区建设路1号"},
        {"key": "unknown", "residence_address": "幸福小区3号楼2单元"},
        {"key": "coded", "residence_code": "410402100201", "residence_address": "幸福小区"},
        {"key": "empty"},
    ]
    found = locate(con, rows, divisions=TWO_COUNTY_TABLE)
    assert {key: (row["residence_code"], row["warnings"]) for key, row in found.items()} == {
        "shared": (None, ["residence_ambiguous"]),
        "unknown": (None, ["residence_unresolved"]),
        "coded": ("410402100201", []),
        "empty": (None, []),
    }
    # A village of two counties' tables, with no county named, is not guessed either.
    found = locate(
        con, [{"key": "v", "residence_address": "东湾村3组"}], divisions=TWO_COUNTY_TABLE
    )
    assert (found["v"]["residence_code"], found["v"]["warnings"]) == (None, ["residence_ambiguous"])


def test_a_hukou_address_is_never_read_within_the_rounds_county(con: Connection) -> None:
    child_id = "41040220150302013" + check_char("41040220150302013")
    rows = [
        {"key": "a", "hukou_address": "焦店镇东湾村3组"},  # 城关镇-like names recur everywhere
        {"key": "b", "hukou_address": "新华区建华南大街"},
        {"key": "c", "hukou_address": "新华区建华南大街", "id": child_id},
        {"key": "d", "hukou_address": "河南省平顶山市新华区焦店镇东湾村"},
        {"key": "e", "hukou_address": "石家庄市新华区", "id": child_id},
    ]
    found = locate(con, rows)
    assert {key: (row["hukou_code"], row["hukou_origin"]) for key, row in found.items()} == {
        "a": (None, None),
        "b": (None, None),
        "c": (XINHUA, "address"),
        "d": (DONGWAN, "address"),
        "e": ("130105000000", "address"),
    }
    assert all(row["warnings"] == [] for row in found.values())


def test_ingest_counts_the_unresolved_residences_per_file(tmp_path: Path) -> None:
    feeds = tmp_path / "feeds"
    feeds.mkdir()
    (feeds / "self_declaration.csv").write_text(
        "申报编号,儿童姓名,出生日期,现住址\n"
        "S1,甲,2015-01-01,中兴路街道庆建社区光华路81号14号楼\n"
        "S2,乙,2015-01-01,新华区光明路街道光光社区中兴路237号\n"
        "S3,丙,2015-01-01,光华路81号\n"
        "S4,丁,2015-01-01,新华区光华路81号\n",
        encoding="utf-8",
    )
    files, _ = plan_folder(feeds)
    divisions = division_table(_NATION + _HOME + _NEIGHBOUR)
    result = ingest(files, divisions=divisions, out_dir=tmp_path / "out")
    assert result.parts[0].warnings == {"residence_unresolved": 1, "residence_ambiguous": 1}
    result = ingest(files, divisions=divisions, out_dir=tmp_path / "again", county="410402")
    assert result.warnings == {"residence_unresolved": 1}
