"""Feed intake end to end on small hand-made files: one test per format rule and reason."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import openpyxl
import pyarrow as pa
import pytest

from tonghu.pipeline.ingest import IngestResult, NothingToIngestError, ingest
from tonghu.pipeline.read import normalise_header, plan_folder, source_for_name
from tonghu.pipeline.tests.test_values import check_char

POLICE_HEADER = (
    "居住证编号,姓名,性别,公民身份号码,出生日期,"
    "户籍地区划代码,户籍地址,居住地区划代码,居住登记日期,状态"
)


def valid_id(first17: str) -> str:
    return first17 + check_char(first17)


CHILD_ID = valid_id("41040220150302013")  # a boy born 2015-03-02, first registered in 410402


def write_csv(folder: Path, name: str, lines: list[str], encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


class FeedRun:
    """A round's feed folder and its successive imports."""

    def __init__(self, tmp_path: Path, divisions: pa.Table) -> None:
        self.folder = tmp_path / "feeds"
        self.folder.mkdir()
        self.tmp_path = tmp_path
        self.divisions = divisions
        self.outputs: list[Path] = []

    def __call__(self, *, again: bool = False) -> IngestResult:
        files, _ = plan_folder(self.folder)
        out = self.tmp_path / f"out{len(self.outputs)}"
        prior = self.outputs[-1:] if again else []
        result = ingest(
            files,
            divisions=self.divisions,
            out_dir=out,
            prior_records=[p / "records.parquet" for p in prior],
            prior_rejects=[p / "rejects.parquet" for p in prior],
        )
        self.outputs.append(out)
        return result


@pytest.fixture
def run_folder(tmp_path: Path, divisions: pa.Table) -> FeedRun:
    return FeedRun(tmp_path, divisions)


def rows(
    path: Path, columns: str, where: str = "true", order: str = "file, sheet, row"
) -> list[tuple[Any, ...]]:
    return duckdb.execute(
        f"SELECT {columns} FROM read_parquet('{path}') WHERE {where} ORDER BY {order}"
    ).fetchall()


def test_file_names_decide_the_source_and_others_are_skipped(tmp_path: Path) -> None:
    for name in (
        "police_residence_2025H1.csv",
        "edu_migrant.xlsx",
        "cdc_vaccination-本区.csv",
        "health_child.2025.csv",
        "~$edu_migrant.xlsx",
        "other_data.csv",
        "police_residencex.csv",
        "civil_status.txt",
    ):
        (tmp_path / name).write_text("x")
    feeds, skipped = plan_folder(tmp_path)
    assert [(f.path.name, f.source.name) for f in feeds] == [
        ("cdc_vaccination-本区.csv", "cdc_vaccination"),
        ("edu_migrant.xlsx", "edu_migrant"),
        ("health_child.2025.csv", "health_child"),
        ("police_residence_2025H1.csv", "police_residence"),
    ]
    assert {s.name: s.reason for s in skipped} == {
        "~$edu_migrant.xlsx": "编辑器临时锁文件",
        "other_data.csv": "文件名不以任何数据来源名开头",
        "police_residencex.csv": "文件名不以任何数据来源名开头",
        "civil_status.txt": "不是 CSV 或 XLSX 文件",
    }
    assert source_for_name("medical_insurance") is not None


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("* 姓名", "姓名"),
        ("姓　名", "姓名"),
        ("出生日期(YYYY-MM-DD)", "出生日期"),
        ("出生日期（年月日）", "出生日期"),
        ("＊身份证号", "身份证号"),
    ],
)
def test_header_cells_match_after_normalising(cell: str, expected: str) -> None:
    assert normalise_header(cell) == expected


def test_a_csv_with_messy_headers_aliases_and_an_extra_column(
    run_folder: FeedRun,
) -> None:
    folder = run_folder.folder
    write_csv(
        folder,
        "police_residence.csv",
        [
            "证件编号,* 儿童姓名,性别,身份证号码,出生日期(YYYY-MM-DD),户籍地代码,现居住地代码,备注",
            f"J1,张　三,男,{CHILD_ID},2015-03-02,410102,410402100201,自备注",
        ],
    )
    result = run_folder()
    assert (result.read, result.accepted, result.rejected) == (1, 1, 0)
    ((name, id_number, hukou, residence, raw),) = rows(
        result.records, "name, id_number, hukou_code, residence_code, raw"
    )
    assert (name, id_number, hukou, residence) == ("张三", CHILD_ID, "410102000000", "410402100201")
    assert raw[-1] == "自备注", "unknown columns are kept in the raw content"
    (header,) = rows(result.records.parent / "blocks.parquet", "header", order="file")[0]
    assert header[-1] == "备注"
    assert header[1] == "* 儿童姓名", "the file's own header is kept as it came"


def test_gb18030_and_bom_files_read_the_same(run_folder: FeedRun) -> None:
    folder = run_folder.folder
    lines = ["居住证编号,姓名,出生日期", "J1,喆䶮,2015-03-02"]  # 䶮 is outside GBK's 2-byte set
    write_csv(folder, "police_residence_a.csv", lines, encoding="gb18030")
    write_csv(
        folder, "police_residence_b.csv", [lines[0], "J2,喆䶮,2015-03-02"], encoding="utf-8-sig"
    )
    result = run_folder()
    assert [name for (name,) in rows(result.records, "name")] == ["喆䶮", "喆䶮"]


def test_every_reject_reason(run_folder: FeedRun) -> None:
    folder = run_folder.folder
    write_csv(
        folder,
        "police_residence_1.csv",
        [
            POLICE_HEADER,
            f"J1,李四,男,{CHILD_ID},,,,,,有效",
            "J2,,男,,2015-01-01,,,,,有效",  # no name
            "J3,王五,男,,不详,,,,,有效",  # neither a usable ID nor a birth date
            "J4,赵六,女,41040220150302011,,,,,,有效",  # ID with a wrong check character only
            "J5,钱七,女,,2016-01-01,,,,,有效,多出的一列",  # more cells than the header
        ],
    )
    write_csv(
        folder,
        "police_residence_2.csv",
        [
            POLICE_HEADER,
            f"J1,李四,男,{CHILD_ID},,,,,,有效",  # identical repeat: ignored
            "J1,李四,男,,2015-03-03,,,,,注销",  # same key, other content: duplicate_key
        ],
    )
    result = run_folder()
    rejected = rows(result.rejects, "file, row, record_key, reasons")
    assert rejected == [
        ("police_residence_1.csv", 2, "J2", ["missing_name"]),
        ("police_residence_1.csv", 3, "J3", ["missing_identity"]),
        ("police_residence_1.csv", 4, "J4", ["missing_identity"]),
        ("police_residence_1.csv", 5, None, ["unreadable_row"]),
        ("police_residence_2.csv", 2, "J1", ["duplicate_key"]),
    ]
    unreadable_raw = rows(result.rejects, "raw", "row = 5")
    assert unreadable_raw == [(["J5,钱七,女,,2016-01-01,,,,,有效,多出的一列"],)]
    first, second = result.parts
    assert (first.read, first.accepted, first.rejected_rows, first.repeated) == (5, 1, 4, 0)
    assert (second.read, second.accepted, second.rejected_rows, second.repeated) == (2, 0, 1, 1)


def test_importing_the_same_files_again_changes_nothing(
    run_folder: FeedRun,
) -> None:
    folder = run_folder.folder
    write_csv(
        folder,
        "police_residence.csv",
        [
            POLICE_HEADER,
            f"J1,李四,男,{CHILD_ID},,,,,,有效",
            "J2,,男,,2015-01-01,,,,,有效",
        ],
    )
    run_folder()
    again = run_folder(again=True)
    assert (again.accepted, again.rejected, again.parts[0].repeated) == (0, 0, 2)
    assert duckdb.execute(f"SELECT count(*) FROM read_parquet('{again.records}')").fetchall() == [
        (0,)
    ]


def test_warnings_name_each_value_that_could_not_be_used(
    run_folder: FeedRun,
) -> None:
    folder = run_folder.folder
    write_csv(
        folder,
        "police_residence.csv",
        [
            POLICE_HEADER + ",联系电话",
            f"J1,李四,女,{CHILD_ID},2015-03-09,4101,,410402100201,2024-13-01,有效?,12345",
        ],
    )
    result = run_folder()
    ((warnings, sex, birth),) = rows(result.records, "warnings, sex, birth_date")
    assert sorted((w["field"], w["code"]) for w in warnings) == [
        ("birth_date", "id_birth_mismatch"),
        ("hukou_code", "bad_division_code"),
        ("hukou_code", "hukou_from_id_prefix"),
        ("permit_status", "unknown_value"),
        ("phone", "bad_phone"),
        ("registered_on", "bad_date"),
        ("sex", "id_sex_mismatch"),
    ]
    assert (sex, birth) == ("女", dt.date(2015, 3, 9)), "stated values are kept beside the ID's"
    assert result.parts[0].warnings["bad_date"] == 1


def test_hukou_is_resolved_from_address_then_from_the_id_prefix(
    run_folder: FeedRun,
) -> None:
    folder = run_folder.folder
    write_csv(
        folder,
        "police_residence.csv",
        [
            POLICE_HEADER,
            "J1,甲,男,,2015-01-01,,河南省郑州市中原区建设路1号,,,有效",
            f"J2,乙,男,{CHILD_ID},,,,,,有效",
            "J3,丙,男,,2015-01-01,,某市新华区,,,有效",  # 新华区 is the name of several counties
            "J4,丁,男,,2015-01-01,,,,,有效",
        ],
    )
    result = run_folder()
    found = rows(result.records, "record_key, hukou_code, hukou_origin")
    assert found == [
        ("J1", "410102000000", "address"),
        ("J2", "410402000000", "id_prefix"),
        ("J3", None, None),
        ("J4", None, None),
    ]


def test_residence_resolves_down_to_the_village_named_in_the_address(
    run_folder: FeedRun,
) -> None:
    folder = run_folder.folder
    write_csv(
        folder,
        "self_declaration.csv",
        [
            "申报编号,儿童姓名,出生日期,现住址",
            "S1,甲,2015-01-01,河南省平顶山市新华区焦店镇东湾村3组",
            "S2,乙,2015-01-01,平顶山市新华区焦店镇某小区",
        ],
    )
    result = run_folder()
    assert rows(result.records, "residence_code, residence_origin") == [
        ("410402100201", "address"),
        ("410402100000", "address"),
    ]


def test_disability_certificates_carry_the_holders_id(
    run_folder: FeedRun,
) -> None:
    folder = run_folder.folder
    write_csv(
        folder,
        "disability_cert.csv",
        ["残疾人证号,姓名,残疾类别,残疾等级", f"{CHILD_ID}12,甲,肢体,二级"],
    )
    result = run_folder()
    assert rows(result.records, "id_number, id_valid, id_birth_date") == [
        (CHILD_ID, True, dt.date(2015, 3, 2))
    ]


def _xlsx(path: Path) -> None:
    book = openpyxl.Workbook()
    notes = book.active
    assert notes is not None
    notes.title = "填表说明"
    notes.append(["请按模板填写"])
    data = book.create_sheet("一小")
    data.append(["某区随迁子女在读名单"])  # a title row above the header
    data.append(["学籍号", "学生姓名", "性别", "出生日期", "入学日期", "身份证件号", "学籍状态"])
    # Excel date cells are naive date-times; 45170 is an unformatted serial number.
    excel_date = dt.datetime(2015, 3, 2)  # noqa: DTZ001
    data.append(["G1", "甲", 1, excel_date, 45170, int(CHILD_ID[:17] + "0")])
    data.append([None, None, None, None, None, None, None])
    data.append(["G2", "乙", "女", "2016/9/1", "2022-09-01", None, "在读"])
    second = book.create_sheet("二小")
    second.append(["学籍号", "姓名", "出生日期"])
    second.append(["G3", "丙", dt.date(2014, 1, 5)])
    book.save(path)


def test_xlsx_sheets_with_title_rows_date_cells_and_serial_numbers(
    run_folder: FeedRun,
) -> None:
    folder = run_folder.folder
    _xlsx(folder / "edu_migrant.xlsx")
    result = run_folder()
    assert [(p.sheet, p.read) for p in result.parts] == [("一小", 2), ("二小", 1)]
    found = rows(
        result.records, "sheet, row, record_key, sex, birth_date, enrolled_on, school_status"
    )
    assert found == [
        ("一小", 1, "G1", "男", dt.date(2015, 3, 2), dt.date(2023, 9, 1), None),
        ("一小", 3, "G2", "女", dt.date(2016, 9, 1), dt.date(2022, 9, 1), "在读"),
        ("二小", 1, "G3", None, dt.date(2014, 1, 5), None, None),
    ]


def test_a_folder_with_nothing_readable_says_why(run_folder: FeedRun) -> None:
    folder = run_folder.folder
    write_csv(folder, "police_residence.csv", ["编号,名字", "1,甲"])
    (folder / "edu_migrant.csv").write_bytes(b"")
    with pytest.raises(NothingToIngestError) as refused:
        run_folder()
    reasons = {item.name: item.reason for item in refused.value.skipped}
    assert reasons == {
        "edu_migrant.csv": "文件为空",
        "police_residence.csv": "表头与数据来源 police_residence 的列不符（缺少编号列或姓名列）",
    }
