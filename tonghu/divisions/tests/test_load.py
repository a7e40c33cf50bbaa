from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tonghu.divisions.codes import Level, level_of, town_kind
from tonghu.divisions.models import Division
from tonghu.divisions.services import (
    DEMO_COUNTY_FILE,
    NATIONAL_FILE,
    DivisionFileError,
    divisions_load,
)

HEADER = "code,name,level,parent_code,central_urban\n"
GOOD = (
    HEADER
    + "410000000000,河南省,province,,0\n"
    + "410400000000,平顶山市,city,410000000000,0\n"
    + "410402000000,新华区,county,410400000000,1\n"
    + "410402100000,焦店镇,town,410402000000,0\n"
    + "410402100201,东湾村,village,410402100000,0\n"
)


def write(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "divisions.csv"
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.django_db
def test_a_good_file_loads_the_tree(tmp_path: Path) -> None:
    result = divisions_load(path=write(tmp_path, GOOD))
    assert (result.created, result.updated, result.unchanged) == (5, 0, 0)
    village = Division.objects.get(code="410402100201")
    assert village.parent is not None
    assert village.parent.name == "焦店镇"
    assert Division.objects.get(code="410402000000").central_urban is True


@pytest.mark.django_db
def test_loading_again_changes_nothing_and_a_rename_updates(tmp_path: Path) -> None:
    divisions_load(path=write(tmp_path, GOOD))
    again = divisions_load(path=write(tmp_path, GOOD))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 5)
    renamed = divisions_load(path=write(tmp_path, GOOD.replace("东湾村", "东湾社区")))
    assert (renamed.created, renamed.updated) == (0, 1)
    assert Division.objects.get(code="410402100201").name == "东湾社区"


@pytest.mark.django_db
def test_gb18030_file_is_read(tmp_path: Path) -> None:
    divisions_load(path=write(tmp_path, GOOD, encoding="gb18030"))
    assert Division.objects.get(code="410402100000").name == "焦店镇"


@pytest.mark.django_db
def test_a_later_file_may_hang_under_divisions_already_loaded(tmp_path: Path) -> None:
    divisions_load(path=write(tmp_path, GOOD))
    more = HEADER + "410402100202,西湾村,village,410402100000,0\n"
    divisions_load(path=write(tmp_path, more))
    assert Division.objects.filter(parent_id="410402100000").count() == 2


BAD_FILES = {
    "unknown parent": (
        GOOD + "410403000000,卫东区,county,410500000000,0\n",
        ["第7行：上级代码 410500000000 不存在"],
    ),
    "malformed code": (
        GOOD + "41040310000,某镇,town,410402000000,0\n",
        ["第7行：区划代码 '41040310000' 应为12位数字"],
    ),
    "wrong level order": (
        GOOD + "410402100202,西湾村,village,410402000000,0\n",
        ["第7行：层级顺序错误，村级区划的上级应为乡级，而 410402000000 为县级"],
    ),
    "duplicate code": (
        GOOD + "410402100201,东湾新村,village,410402100000,0\n",
        ["第7行：区划代码 410402100201 与第6行重复"],
    ),
    "code outside its parent": (
        GOOD + "410403100000,某镇,town,410402000000,0\n",
        ["第7行：代码 410403100000 不在上级 410402000000 的代码范围内"],
    ),
    "level does not fit the code": (
        GOOD + "410402101000,某镇,village,410402100000,0\n",
        ["第7行：代码 410402101000 的结构与层级 village 不符"],
    ),
    "bad central_urban and unknown level": (
        GOOD + "410402101000,某镇,township,410402000000,yes\n",
        [
            "第7行：层级 'township' 应为 province、city、county、town、village 之一",
            "第7行：central_urban 应为 0 或 1，实为 'yes'",
        ],
    ),
    "wrong header": ("code,name,level\n410000000000,河南省,province\n", None),
    "empty file": (HEADER, ["文件中没有区划数据"]),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", BAD_FILES, ids=list(BAD_FILES))
def test_a_bad_file_is_refused_whole_naming_each_line(tmp_path: Path, case: str) -> None:
    text, expected = BAD_FILES[case]
    with pytest.raises(DivisionFileError) as refused:
        divisions_load(path=write(tmp_path, text))
    if expected is not None:
        assert refused.value.problems == expected
    assert Division.objects.count() == 0, "nothing may be half-loaded"


@pytest.mark.django_db
def test_every_bad_line_is_named_not_just_the_first(tmp_path: Path) -> None:
    text = GOOD + "4104,坏,town,,0\n" + "410402100201,重复,village,410402100000,0\n"
    with pytest.raises(DivisionFileError) as refused:
        divisions_load(path=write(tmp_path, text))
    assert [problem[:4] for problem in refused.value.problems] == ["第7行：", "第8行："]


@pytest.mark.django_db
def test_the_command_refuses_with_a_chinese_message(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD + "410403000000,卫东区,county,410500000000,0\n")
    with pytest.raises(CommandError, match="未写入任何数据"):
        call_command("divisions_load", str(path))
    assert not Division.objects.exists()


@pytest.mark.django_db
def test_the_shipped_national_list_and_demo_county_load() -> None:
    call_command("divisions_load", "--demo", verbosity=0)
    counts = {level: Division.objects.filter(level=level).count() for level in Level}
    assert counts[Level.PROVINCE] == 31
    assert counts[Level.CITY] > 330
    assert counts[Level.COUNTY] > 2800
    # Hukou places resolve by code and by name.
    assert Division.objects.get(code="410402000000").name == "新华区"
    assert Division.objects.get(name="平顶山市").code == "410400000000"
    tianjin_central = Division.objects.filter(code__startswith="1201", central_urban=True)
    assert {d.name for d in tianjin_central} == {
        "和平区",
        "河东区",
        "河西区",
        "南开区",
        "河北区",
        "红桥区",
    }
    assert Division.objects.filter(parent_id="410402000000", level=Level.TOWN).count() == 4
    assert NATIONAL_FILE.exists()
    assert DEMO_COUNTY_FILE.exists()


@pytest.mark.parametrize(
    ("code", "level"),
    [
        ("410000000000", Level.PROVINCE),
        ("410400000000", Level.CITY),
        ("410402000000", Level.COUNTY),
        ("410402100000", Level.TOWN),
        ("410402100201", Level.VILLAGE),
        ("000000000000", None),
        ("4104021002", None),
        ("41040210020A", None),
    ],
)
def test_level_of_reads_the_code_structure(code: str, level: Level | None) -> None:
    assert level_of(code) == level


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("410402001000", "街道"),
        ("410402099000", "街道"),
        ("410402100000", "镇"),
        ("410402199000", "镇"),
        ("410402200000", "乡"),
        ("410402399000", "乡"),
        ("410402400000", "其他乡级单位"),
    ],
)
def test_town_kind_follows_the_statistics_convention(code: str, kind: str) -> None:
    assert town_kind(code) == kind
