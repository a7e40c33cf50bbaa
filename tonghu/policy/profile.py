"""A policy profile: YAML parsed into frozen typed objects, every error named with its key.

A local profile may start from another (``extends: default``) and state only what differs:
mappings merge key by key, lists and values replace. Validation is pydantic's (already a
dependency through django-ninja); its messages are rendered in Chinese with the key path.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from functools import cache, lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from tonghu.cases.machine import TIMED_STATES
from tonghu.pipeline.sources import CIVIL_CATEGORIES, PARENT_STATES, all_fields
from tonghu.policy.coverage import narrowing_problems
from tonghu.policy.rules import KEY_CARE_LABELS, Rule, RuleError, parse_rule

PROFILE_DIR = Path(__file__).parent / "profiles"
DEFAULT_PROFILE = "default"
# Any normalised feed field may show on the file, and the values the round derives.
LEDGER_FIELDS = (*all_fields(), "residence_since")


class ProfileError(ValueError):
    """A profile that cannot be used; ``problems`` lists each as ``key: what is wrong``."""

    def __init__(self, source: str, problems: list[str]) -> None:
        super().__init__(f"政策配置 {source} 有误：" + "；".join(problems))
        self.source = source
        self.problems = problems


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def _subset_of(allowed: tuple[str, ...]) -> Any:
    def check(values: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [value for value in values if value not in allowed]
        if unknown:
            raise ValueError(f"不认识的取值 {'、'.join(unknown)}（可用：{'、'.join(allowed)}）")
        return values

    return AfterValidator(check)


def _county_codes(values: tuple[str, ...]) -> tuple[str, ...]:
    bad = [value for value in values if len(value) != 6 or not value.isdigit()]
    if bad:
        raise ValueError(f"应为6位县级区划代码：{'、'.join(bad)}")
    return values


def _rule(value: object) -> Rule:
    if isinstance(value, Rule):
        return value
    try:
        return parse_rule(value, path="")
    except RuleError as error:
        raise ValueError(f"服务对象条件{error.path}：{error.message}") from error


Months = Annotated[int, Field(ge=1, le=120)]
Age = Annotated[int, Field(ge=0, le=18)]


class Monitoring(_Model):
    cadence_months: Months  # a full round at least this often (§9)


class Migrant(_Model):
    age_below: Age
    min_residence_months: Months
    central_urban_moves_count: bool  # false: moves between one city's central districts don't
    central_urban_counties: Annotated[tuple[str, ...], AfterValidator(_county_codes)] = ()


class LeftBehind(_Model):
    age_below: Age
    parent_away_min_months: Months
    away_beyond: Literal["county", "city", "province"]
    unable_states: Annotated[tuple[str, ...], _subset_of(PARENT_STATES)]


class KeyCare(_Model):
    hardship_categories: Annotated[tuple[str, ...], _subset_of(CIVIL_CATEGORIES)]
    no_need_answers: tuple[str, ...]  # 求助需求 answers that state no need
    asks_help_migrants_only: bool  # Tianjin: only 跨乡镇（街道）的流动儿童 who ask for help


class Dropout(_Model):
    age_min: Age
    age_max: Age

    @model_validator(mode="after")
    def _ordered(self) -> Dropout:
        if self.age_min > self.age_max:
            raise ValueError("age_min 不得大于 age_max")
        return self


class Linkage(_Model):
    match_threshold: Annotated[float, Field(gt=0, lt=1)]
    review_threshold: Annotated[float, Field(gt=0, lt=1)]

    @model_validator(mode="after")
    def _ordered(self) -> Linkage:
        if self.review_threshold >= self.match_threshold:
            raise ValueError("review_threshold 应小于 match_threshold")
        return self


class Service(_Model):
    model_config = ConfigDict(
        extra="forbid", frozen=True, strict=True, arbitrary_types_allowed=True
    )

    code: Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9]{1,9}$")]
    name: Annotated[str, Field(min_length=1)]
    content: Annotated[str, Field(min_length=1)]  # 服务内容, in plain Chinese for families
    responsible: Annotated[str, Field(min_length=1)]  # 责任部门 as the local document words it
    departments: Annotated[tuple[str, ...], Field(min_length=1)]  # accounts.Department keys
    who: Annotated[Rule, BeforeValidator(_rule)]


class Services(_Model):
    applies_to: Literal["migrant"]
    items: Annotated[tuple[Service, ...], Field(min_length=1)]

    @model_validator(mode="after")
    def _unique_codes(self) -> Services:
        codes = [item.code for item in self.items]
        repeated = sorted({code for code in codes if codes.count(code) > 1})
        if repeated:
            raise ValueError(f"服务编号重复：{'、'.join(repeated)}")
        return self


class Visits(_Model):
    key_care_home_visits_per_quarter: Annotated[int, Field(ge=1, le=90)]
    contact_every_months: Months
    home_visit_every_months: Months
    first_visit_working_days: Annotated[int, Field(ge=1, le=60)]
    parent_contact_every_days: Annotated[int, Field(ge=1, le=90)]
    raise_frequency_when: tuple[str, ...]  # in the document's words
    raised: RaisedVisits


GUARDIANSHIP_GRADES = ("监护缺失", "监护失当", "监护不足", "监护正常")  # worst first
GRADE_COLOURS = ("红", "橙", "黄", "绿")  # 赋色管理, in the same order


class RaisedVisits(_Model):
    """加大走访频次: the triggers (the document's words made checkable) and the raised pace."""

    grades: Annotated[tuple[str, ...], _subset_of(GUARDIANSHIP_GRADES)]  # 中高风险
    key_care: Annotated[tuple[str, ...], _subset_of(tuple(KEY_CARE_LABELS))]
    parent_states: Annotated[tuple[str, ...], _subset_of(PARENT_STATES)]
    home_visit_every_months: Months


class AssessmentIndicator(_Model):
    code: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    name: Annotated[str, Field(min_length=1)]
    weight: Annotated[int, Field(ge=1, le=100)]


class AssessmentDimension(_Model):
    name: Annotated[str, Field(min_length=1)]
    indicators: Annotated[tuple[AssessmentIndicator, ...], Field(min_length=1)]


class AnswerLevel(_Model):
    label: Annotated[str, Field(min_length=1)]
    score: Annotated[int, Field(ge=0, le=100)]  # share of the indicator's weight, in percent


class GradeBand(_Model):
    grade: Literal["监护缺失", "监护失当", "监护不足", "监护正常"]
    min_score: Annotated[int, Field(ge=0, le=100)]


class GradeCap(_Model):
    """An answer that caps the grade whatever the total (e.g. 儿童安全 很差 → 监护缺失)."""

    indicator: str
    level: str
    grade: Literal["监护缺失", "监护失当", "监护不足", "监护正常"]


class Assessment(_Model):
    """家庭监护能力评估: weighted indicators scored by answer level, banded into grades."""

    basis: Annotated[str, Field(min_length=1)]
    dimensions: Annotated[tuple[AssessmentDimension, ...], Field(min_length=1)]
    levels: Annotated[tuple[AnswerLevel, ...], Field(min_length=2)]
    grades: Annotated[tuple[GradeBand, ...], Field(min_length=1)]
    caps: tuple[GradeCap, ...] = ()

    @property
    def indicators(self) -> tuple[AssessmentIndicator, ...]:
        return tuple(item for dimension in self.dimensions for item in dimension.indicators)

    @model_validator(mode="after")
    def _consistent(self) -> Assessment:
        codes = [item.code for item in self.indicators]
        if len(set(codes)) != len(codes):
            raise ValueError("指标代码重复")
        if sum(item.weight for item in self.indicators) != 100:
            raise ValueError("各指标权重之和应为100")
        if sorted(band.grade for band in self.grades) != sorted(GUARDIANSHIP_GRADES):
            raise ValueError(f"grades 应恰好列出{'、'.join(GUARDIANSHIP_GRADES)}各一次")
        ordered = sorted(self.grades, key=lambda band: GUARDIANSHIP_GRADES.index(band.grade))
        if [band.min_score for band in ordered] != sorted(band.min_score for band in ordered):
            raise ValueError("分数下限应随等级由差到好递增")
        if ordered[0].min_score != 0:
            raise ValueError("最差等级（监护缺失）的分数下限应为0")
        if len({band.min_score for band in ordered}) != len(ordered):
            raise ValueError("各等级的分数下限不能相同")
        labels = {level.label for level in self.levels}
        for cap in self.caps:
            if cap.indicator not in codes:
                raise ValueError(f"caps 中的指标 {cap.indicator} 不存在")
            if cap.level not in labels:
                raise ValueError(f"caps 中的答案 {cap.level} 不存在")
        return self


class Roster(_Model):
    # 留守儿童和困境儿童总人数超过此数的村（社区）增配儿童主任（桐乡：30）
    children_per_director_max: Annotated[int, Field(ge=1, le=1000)]


class Referrals(_Model):
    respond_within_days: Annotated[int, Field(ge=1, le=365)]  # untouched longer: overdue


class Exchange(_Model):
    """居住地与户籍地信息交换: the hukou county answers a 跨省通办 request within this."""

    certify_within_days: Annotated[int, Field(ge=1, le=365)]


class TimeLimit(_Model):
    """A step's time limit: hours for the urgent ones (立即 = 1 hour), days for the rest."""

    hours: Annotated[int, Field(ge=1, le=720)] | None = None
    days: Annotated[int, Field(ge=1, le=365)] | None = None

    @model_validator(mode="after")
    def _one_unit(self) -> TimeLimit:
        if (self.hours is None) == (self.days is None):
            raise ValueError("时限须写 hours（小时）或 days（日）之一")
        return self

    @property
    def delta(self) -> dt.timedelta:
        return dt.timedelta(hours=self.hours) if self.hours else dt.timedelta(days=self.days or 0)

    @property
    def label(self) -> str:
        return f"{self.hours}小时" if self.hours else f"{self.days}日"


class Cases(_Model):
    """强制报告与个案处置：each state's time limit, follow-up rhythm and related deadlines."""

    deadlines: dict[str, TimeLimit]
    follow_up_every_days: Annotated[int, Field(ge=1, le=365)]
    monitoring_min_days: Annotated[int, Field(ge=0, le=3650)]
    conference_task_days: Annotated[int, Field(ge=1, le=365)]
    transfer_accept_days: Annotated[int, Field(ge=1, le=365)]

    @model_validator(mode="after")
    def _every_state_timed(self) -> Cases:
        expected = {state.value for state in TIMED_STATES}
        unknown = sorted(set(self.deadlines) - expected)
        missing = sorted(expected - set(self.deadlines))
        if unknown:
            raise ValueError(f"deadlines 中不认识的环节 {'、'.join(unknown)}")
        if missing:
            raise ValueError(f"deadlines 缺少环节 {'、'.join(missing)} 的时限")
        return self

    def limit(self, state: str) -> TimeLimit:
        return self.deadlines[state]


class AgeBand(_Model):
    label: Annotated[str, Field(min_length=1)]
    min: Age
    max: Age


class ReportDue(_Model):
    month: Annotated[int, Field(ge=1, le=12)]
    day: Annotated[int, Field(ge=1, le=31)]


class Stats(_Model):
    """统计分析: small-cell protection, the age bands of 年龄结构 and the report's due date."""

    # Outside the county civil-affairs office a cell counting fewer children is not shown.
    suppress_below: Annotated[int, Field(ge=1, le=100)]
    age_bands: Annotated[tuple[AgeBand, ...], Field(min_length=1)]
    health_age_max: Age  # 健康状况 (家庭医生签约, 本地接种) counts children up to this age
    annual_report_due: ReportDue  # 工作进展情况 each year by this date

    @model_validator(mode="after")
    def _bands_cover_ages(self) -> Stats:
        expected = 0
        for band in self.age_bands:
            if band.min != expected or band.max < band.min:
                raise ValueError(
                    f"age_bands 须从0岁起连续、不重叠（{band.label} 应从{expected}岁开始）"
                )
            expected = band.max + 1
        labels = [band.label for band in self.age_bands]
        if len(set(labels)) != len(labels):
            raise ValueError("age_bands 的名称重复")
        return self


# Roles named in the privacy section (accounts.roles.Role values; policy does not import Django).
StaffRole = Literal[
    "child_director",
    "supervisor",
    "county_staff",
    "city_staff",
    "department_officer",
    "reporter",
    "sysadmin",
    "auditor",
]


class Privacy(_Model):
    """未成年人个人信息保护: who sees full values, which file groups each role sees,
    break-the-glass time and which roles must use two-factor sign-in."""

    reveal_roles: tuple[StaffRole, ...]  # may show a full ID number or phone (each reveal audited)
    export_roles: tuple[StaffRole, ...]  # may download personal data (with a stated reason)
    # Each listed role sees only these groups of a child's file; an unlisted role sees all.
    ledger_groups: dict[StaffRole, tuple[str, ...]]
    break_glass_hours: Annotated[int, Field(ge=1, le=72)]
    break_glass_roles: tuple[StaffRole, ...]
    two_factor_roles: tuple[StaffRole, ...]  # must sign in with a TOTP code as well


class LedgerGroup(_Model):
    title: Annotated[str, Field(min_length=1)]
    fields: Annotated[tuple[str, ...], Field(min_length=1), _subset_of(LEDGER_FIELDS)]


class Profile(_Model):
    key: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    name: Annotated[str, Field(min_length=1)]
    basis: Annotated[tuple[str, ...], Field(min_length=1)]  # the documents it follows
    monitoring: Monitoring
    migrant: Migrant
    left_behind: LeftBehind
    key_care: KeyCare
    dropout: Dropout
    linkage: Linkage
    services: Services
    referrals: Referrals
    exchange: Exchange
    visits: Visits
    assessment: Assessment
    roster: Roster
    cases: Cases
    stats: Stats
    privacy: Privacy
    ledger: Annotated[tuple[LedgerGroup, ...], Field(min_length=1)]

    @model_validator(mode="after")
    def _privacy_groups_exist(self) -> Profile:
        titles = {group.title for group in self.ledger}
        for role, groups in self.privacy.ledger_groups.items():
            unknown = [title for title in groups if title not in titles]
            if unknown:
                raise ValueError(
                    f"privacy.ledger_groups.{role} 中的信息组 {'、'.join(unknown)} 不在 ledger 中"
                )
        return self

    def ledger_for(self, role: str) -> tuple[LedgerGroup, ...]:
        """The file's groups a role may see (minimum necessary)."""
        allowed = self.privacy.ledger_groups.get(role)  # type: ignore[call-overload]
        if allowed is None:
            return self.ledger
        return tuple(group for group in self.ledger if group.title in allowed)

    def service(self, code: str) -> Service:
        return next(item for item in self.services.items if item.code == code)


def load_profile(name_or_path: str | Path = DEFAULT_PROFILE) -> Profile:
    """A shipped profile by key (``default``, ``tianjin`` ...) or a YAML file by path."""
    path = _resolve(name_or_path)
    return _load(path.resolve())


@lru_cache(maxsize=64)
def profile_from_text(text: str, name: str) -> Profile:
    """A profile kept as text (a county's own list, stored in the database); ``extends``
    names a shipped profile. Cached by content, so reading it again costs nothing."""
    data = _parsed(text, name=name, folder=PROFILE_DIR, seen=())
    return _validated(data, name=name, is_base=False)


@cache
def _load(path: Path) -> Profile:
    base_file = (PROFILE_DIR / f"{DEFAULT_PROFILE}.yaml").resolve()
    return _validated(_merged(path, seen=()), name=path.name, is_base=path == base_file)


def _validated(data: dict[str, Any], *, name: str, is_base: bool) -> Profile:
    try:
        # JSON mode: strict types, YAML lists accepted for tuples.
        profile = Profile.model_validate_json(json.dumps(data, ensure_ascii=False, default=str))
    except ValidationError as error:
        raise ProfileError(name, list(_problems(error))) from None
    if not is_base:  # every other list is a district list over the national base
        problems = narrowing_problems(load_profile().services.items, profile.services.items)
        if problems:
            raise ProfileError(name, problems)
    return profile


def shipped_profiles() -> list[str]:
    return sorted(path.stem for path in PROFILE_DIR.glob("*.yaml"))


def _resolve(name_or_path: str | Path) -> Path:
    shipped = PROFILE_DIR / f"{name_or_path}.yaml"
    if isinstance(name_or_path, str) and shipped.is_file():
        return shipped
    path = Path(name_or_path)
    if not path.is_file():
        known = "、".join(shipped_profiles())
        raise ProfileError(str(name_or_path), [f"找不到该配置文件（内置配置：{known}）"])
    return path


def _merged(path: Path, *, seen: tuple[Path, ...]) -> dict[str, Any]:
    if path in seen:
        raise ProfileError(path.name, ["extends 循环引用"])
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ProfileError(
            path.name, [f"无法读取为 UTF-8 文本（{type(error).__name__}）"]
        ) from None
    return _parsed(text, name=path.name, folder=path.parent, seen=(*seen, path))


def _parsed(text: str, *, name: str, folder: Path, seen: tuple[Path, ...]) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ProfileError(name, [f"无法读取为 YAML（{type(error).__name__}）"]) from None
    if not isinstance(data, dict):
        raise ProfileError(name, ["顶层应为映射（键: 值）"])
    parent = data.pop("extends", None)
    if parent is None:
        return data
    beside = folder / str(parent)  # a relative path is read from the profile's folder
    base_path = beside if beside.is_file() else _resolve(str(parent))
    return _deep_merge(_merged(base_path.resolve(), seen=seen), data)


def _deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _deep_merge(merged[key], value)
        elif _coded(value) and _coded(merged.get(key)):
            merged[key] = _merge_by_code(merged[key], value)
        else:
            merged[key] = value
    return merged


def _coded(value: object) -> bool:
    return isinstance(value, list) and all(
        isinstance(item, Mapping) and "code" in item for item in value
    )


def _merge_by_code(base: list[Mapping[str, Any]], override: list[Mapping[str, Any]]) -> list[Any]:
    """Lists of coded items (the service list) merge item by item: a local list restates only
    what differs from its base (each key it writes replaces the base's, rules whole) and
    appends its own items. A code written twice stays twice, for validation to refuse."""
    merged: list[dict[str, Any]] = [dict(item) for item in base]
    position = {item["code"]: index for index, item in enumerate(merged)}
    for item in override:
        index = position.pop(item["code"], None)
        if index is None:
            merged.append(dict(item))
        else:
            merged[index] = {**merged[index], **item}
    return merged


_MESSAGES = {
    "missing": "缺少此项",
    "extra_forbidden": "不认识的键",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "float_type": "应为数字",
    "bool_type": "应为 true 或 false",
    "string_type": "应为文字",
    "tuple_type": "应为列表",
    "model_type": "应为映射（键: 值）",
    "literal_error": "取值不在允许范围内",
    "string_pattern_mismatch": "格式不对",
    "string_too_short": "不能为空",
    "too_short": "不能为空",
    "greater_than": "数值过小",
    "greater_than_equal": "数值过小",
    "less_than": "数值过大",
    "less_than_equal": "数值过大",
}


def _problems(error: ValidationError) -> Iterator[str]:
    errors = error.errors()
    for item in errors:
        # A list whose only item is invalid is also reported as "too short": say it once.
        deeper = [
            other
            for other in errors
            if other["loc"][: len(item["loc"])] == item["loc"]
            and len(other["loc"]) > len(item["loc"])
        ]
        if item["type"] in {"too_short", "string_too_short"} and deeper:
            continue
        key = ".".join(str(part) for part in item["loc"]) or "（顶层）"
        if item["type"] == "value_error":
            message = str(item["ctx"]["error"])
        else:
            message = _MESSAGES.get(item["type"], f"取值无效（{item['msg']}）")
            if item["type"] == "literal_error":
                message += f"（可用：{item['ctx']['expected']}）"
        yield f"{key}: {message}"
