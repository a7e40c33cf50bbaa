"""Policy profiles: the shipped ones load as documented; a bad one is refused by key path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tonghu.policy import PROFILE_DIR, ProfileError, load_profile, shipped_profiles
from tonghu.policy.rules import parse_rule

BASE_CODES = [f"S{number:02d}" for number in range(1, 26)]
TIANJIN_CENTRAL = ("120101", "120102", "120103", "120104", "120105", "120106")


def _default_data() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((PROFILE_DIR / "default.yaml").read_text("utf-8"))
    return data


def _write(tmp_path: Path, data: dict[str, Any] | str, name: str = "local.yaml") -> Path:
    text = data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _problems(path: Path) -> list[str]:
    with pytest.raises(ProfileError) as caught:
        load_profile(path)
    return caught.value.problems


# --- the shipped profiles ----------------------------------------------------------------


def test_the_documented_profiles_are_shipped() -> None:
    assert set(shipped_profiles()) >= {"default", "tianjin", "pingdingshan", "tongxiang", "wuqing"}


@pytest.mark.parametrize("name", shipped_profiles())
def test_every_shipped_profile_loads_with_the_whole_base_list(name: str) -> None:
    profile = load_profile(name)
    assert profile.key == name
    codes = [item.code for item in profile.services.items]
    assert codes[: len(BASE_CODES)] == BASE_CODES
    assert profile.services.applies_to == "migrant"


def test_a_profile_loads_by_path_as_by_name() -> None:
    assert load_profile(PROFILE_DIR / "tianjin.yaml") == load_profile("tianjin")


def test_the_default_profile_holds_the_numbers_of_policy_md() -> None:
    profile = load_profile()
    assert profile.key == "default"
    assert (profile.migrant.age_below, profile.migrant.min_residence_months) == (16, 6)
    assert not profile.migrant.central_urban_moves_count
    assert profile.left_behind.age_below == 16
    assert profile.left_behind.parent_away_min_months == 3
    assert profile.left_behind.away_beyond == "county"
    assert set(profile.key_care.no_need_answers) == {"无", "没有", "否"}
    assert (profile.dropout.age_min, profile.dropout.age_max) == (7, 15)
    assert profile.monitoring.cadence_months == 6
    assert profile.service("S03").who == parse_rule(
        {
            "any": [
                {"stage": ["小学", "初中"]},
                {"all": [{"age": {"min": 7, "max": 15}}, {"stage": [None]}]},
            ]
        }
    )


def test_tianjin_names_its_six_central_urban_districts() -> None:
    profile = load_profile("tianjin")
    assert sorted(profile.migrant.central_urban_counties) == list(TIANJIN_CENTRAL)
    assert profile.key_care.asks_help_migrants_only
    assert profile.migrant.age_below == 16  # the rest comes from default


def test_pingdingshan_renames_s01_but_keeps_25_items_with_the_default_rules() -> None:
    default, local = load_profile("default"), load_profile("pingdingshan")
    assert local.service("S01").name != default.service("S01").name
    assert local.service("S01").name == "健康和托育(3岁以下)服务"
    assert len(local.services.items) == 25
    for item in default.services.items:
        assert local.service(item.code).who == item.who, item.code


def test_pingdingshan_changes_only_the_keys_it_restates() -> None:
    default, local = load_profile("default"), load_profile("pingdingshan")
    assert local.service("S02").responsible == "市教体局"
    assert local.service("S02").content == default.service("S02").content
    assert local.service("S19").departments != default.service("S19").departments
    assert local.visits.key_care_home_visits_per_quarter == 6


def test_wuqing_rounds_are_quarterly() -> None:
    profile = load_profile("wuqing")
    assert profile.monitoring.cadence_months == 3
    assert profile.services == load_profile("default").services


def test_tongxiang_parents_away_three_months_across_a_county() -> None:
    profile = load_profile("tongxiang")
    assert profile.left_behind.parent_away_min_months == 3
    assert profile.left_behind.away_beyond == "county"
    assert profile.visits.home_visit_every_months == 3


def test_a_profile_is_frozen() -> None:
    profile = load_profile()
    with pytest.raises(ValueError, match="frozen"):
        profile.monitoring.cadence_months = 1


# --- bad profiles ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("override", "problem"),
    [
        ("monitoring: {cadence_months: six}", "monitoring.cadence_months: 应为整数"),
        ("monitoring: {cadence_months: '6'}", "monitoring.cadence_months: 应为整数"),
        ("monitoring: {cadence_months: 0}", "monitoring.cadence_months: 数值过小"),
        ("migrant: {age_below: 16, foo: 1}", "migrant.foo: 不认识的键"),
        ("migrant: {central_urban_moves_count: 是}", "migrant.central_urban_moves_count: 应为"),
        ("migrant: {central_urban_counties: ['1201']}", "migrant.central_urban_counties: "),
        ("linkage: {review_threshold: 0.8}", "linkage: review_threshold 应小于"),
        ("linkage: {review_threshold: 0.9}", "linkage: review_threshold 应小于"),
        ("linkage: {match_threshold: 1.0}", "linkage.match_threshold: 数值过大"),
        ("left_behind: {unable_states: [重病, 出差]}", "left_behind.unable_states: "),
        ("left_behind: {away_beyond: town}", "left_behind.away_beyond: "),
        ("dropout: {age_min: 16}", "dropout: age_min 不得大于 age_max"),
        ("key: Tianjin", "key: 格式不对"),
        ("basis: []", "basis: 不能为空"),
    ],
)
def test_a_bad_value_is_refused_with_its_key_path(
    tmp_path: Path, override: str, problem: str
) -> None:
    problems = _problems(_write(tmp_path, f"extends: default\n{override}\n"))
    assert len(problems) == 1, problems
    assert problems[0].startswith(problem)


def test_an_unknown_ledger_field_is_named(tmp_path: Path) -> None:
    text = "extends: default\nledger: [{title: 基本, fields: [name, salary]}]\n"
    problems = _problems(_write(tmp_path, text))
    assert any(p.startswith("ledger.0.fields: ") and "salary" in p for p in problems)


def test_a_bad_item_of_a_one_item_list_is_the_only_problem(tmp_path: Path) -> None:
    text = "extends: default\nledger: [{title: 基本, fields: [name, salary]}]\n"
    assert [p.split(":")[0] for p in _problems(_write(tmp_path, text))] == ["ledger.0.fields"]


def test_an_unknown_state_is_named(tmp_path: Path) -> None:
    (problem,) = _problems(
        _write(tmp_path, "extends: default\nleft_behind: {unable_states: [重病, 出差]}\n")
    )
    assert "出差" in problem


def test_every_problem_is_listed(tmp_path: Path) -> None:
    text = "extends: default\nmonitoring: {cadence_months: x}\nmigrant: {foo: 1}\n"
    problems = _problems(_write(tmp_path, text))
    assert sorted(problem.split(":")[0] for problem in problems) == [
        "migrant.foo",
        "monitoring.cadence_months",
    ]


def test_a_missing_key_is_named(tmp_path: Path) -> None:
    data = _default_data()
    del data["linkage"]["review_threshold"]
    assert _problems(_write(tmp_path, data)) == ["linkage.review_threshold: 缺少此项"]


def test_a_missing_section_is_named(tmp_path: Path) -> None:
    data = _default_data()
    del data["visits"]
    assert _problems(_write(tmp_path, data)) == ["visits: 缺少此项"]


def test_a_repeated_service_code_is_refused(tmp_path: Path) -> None:
    data = _default_data()
    data["services"]["items"].append(dict(data["services"]["items"][2]))
    (problem,) = _problems(_write(tmp_path, data))
    assert problem.startswith("services: ")
    assert "S03" in problem


def test_a_repeated_service_code_in_a_local_list_is_refused(tmp_path: Path) -> None:
    item = {
        "code": "S26",
        "name": "课后托管",
        "content": "课后托管",
        "responsible": "教体局",
        "departments": ["education"],
        "who": {"everyone": True},
    }
    data = {
        "extends": "default",
        "services": {"items": [item, {**item, "name": "课后服务"}]},
    }
    with pytest.raises(ProfileError, match="S26"):
        load_profile(_write(tmp_path, data))


def test_a_bad_service_rule_is_refused_with_its_path(tmp_path: Path) -> None:
    text = (
        "extends: default\nservices:\n  items:\n"
        "    - {code: S26, name: 课后托管, content: 课后托管, responsible: 教体局,"
        " departments: [education], who: {any: [{everyone: true}, {age: {min: x}}]}}\n"
    )
    (problem,) = _problems(_write(tmp_path, text))
    assert problem.startswith("services.items.25.who: ")
    assert "any[1].age.min" in problem


def test_an_unknown_stage_in_a_service_rule_is_refused(tmp_path: Path) -> None:
    data = _default_data()
    data["services"]["items"][3]["who"] = {"stage": ["大学"]}
    (problem,) = _problems(_write(tmp_path, data))
    assert problem.startswith("services.items.3.who: ")
    assert "大学" in problem


def test_a_local_profile_may_replace_a_service_rule(tmp_path: Path) -> None:
    wider = {"any": [{"age": {"max": 6}}, {"stage": ["学前"]}]}
    data = {"extends": "default", "services": {"items": [{"code": "S01", "who": wider}]}}
    assert load_profile(_write(tmp_path, data)).service("S01").who == parse_rule(wider)


def test_a_local_list_dropping_a_base_item_is_refused(tmp_path: Path) -> None:
    data = _default_data()
    data["services"]["items"] = [i for i in data["services"]["items"] if i["code"] != "S25"]
    with pytest.raises(ProfileError, match="S25"):
        load_profile(_write(tmp_path, data))


def test_a_local_list_narrowing_a_base_item_is_refused(tmp_path: Path) -> None:
    data = {
        "extends": "default",
        "services": {"items": [{"code": "S01", "who": {"age": {"max": 5}}}]},
    }
    with pytest.raises(ProfileError, match="S01"):
        load_profile(_write(tmp_path, data))


# --- files and extends -------------------------------------------------------------------


def test_extends_of_a_missing_profile_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(ProfileError) as caught:
        load_profile(_write(tmp_path, "extends: nowhere\nkey: x\n"))
    assert caught.value.source == "nowhere"
    (problem,) = caught.value.problems
    assert "找不到" in problem
    assert "default" in problem  # names the shipped profiles one could mean


def test_an_unknown_profile_name_fails_clearly() -> None:
    with pytest.raises(ProfileError, match="找不到"):
        load_profile("atlantis")


def test_extends_in_a_cycle_fails(tmp_path: Path) -> None:
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text(f"extends: {second}\n", encoding="utf-8")
    second.write_text(f"extends: {first}\n", encoding="utf-8")
    assert _problems(first) == ["extends 循环引用"]


def test_a_profile_may_extend_a_local_profile(tmp_path: Path) -> None:
    base = _write(tmp_path, "extends: tianjin\nkey: tianjin_town\n", "town.yaml")
    local = _write(tmp_path, f"extends: {base}\nkey: village\nmonitoring: {{cadence_months: 2}}\n")
    profile = load_profile(local)
    assert profile.key == "village"
    assert profile.monitoring.cadence_months == 2
    assert profile.key_care.asks_help_migrants_only  # from tianjin, two levels up


@pytest.mark.parametrize("text", ["- a\n- b\n", "key: [unclosed\n", ""])
def test_a_file_that_is_not_a_yaml_mapping_is_refused(tmp_path: Path, text: str) -> None:
    (problem,) = _problems(_write(tmp_path, text))
    assert "YAML" in problem or "映射" in problem


def test_a_profile_error_message_names_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "extends: default\nmigrant: {foo: 1}\n", "mycounty.yaml")
    with pytest.raises(ProfileError, match=r"mycounty\.yaml.*migrant\.foo"):
        load_profile(path)


def test_a_local_list_may_widen_a_base_item_and_add_its_own(tmp_path: Path) -> None:
    data = {
        "extends": "default",
        "key": "wider",
        "services": {
            "items": [
                {"code": "S01", "who": {"age": {"max": 7}}},
                {
                    "code": "X01",
                    "name": "暑期托管",
                    "content": "暑假期间免费托管。",
                    "responsible": "教体局",
                    "departments": ["education"],
                    "who": {"age": {"min": 6, "max": 12}},
                },
            ]
        },
    }
    profile = load_profile(_write(tmp_path, data))
    assert profile.service("S01").who.evaluate({"age": 7})
    assert profile.service("X01").name == "暑期托管"
    assert len(profile.services.items) == 26


def test_the_narrowing_refusal_names_a_child_the_local_list_would_leave_out(
    tmp_path: Path,
) -> None:
    data = {
        "extends": "default",
        "services": {"items": [{"code": "S10", "who": {"difficulty": ["orphan"]}}]},
    }
    with pytest.raises(ProfileError) as caught:
        load_profile(_write(tmp_path, data))
    (problem,) = caught.value.problems
    assert "S10" in problem
    assert "缩小" in problem
    assert "艾滋病病毒感染" in problem or "事实无人抚养" in problem
    assert "hiv" not in problem
