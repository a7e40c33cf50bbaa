"""The tunable noise of a synthetic county: one frozen, validated ``NoiseSettings``.

The defaults are exactly the noise ``tonghu synth`` has always written, so a county generated
with the defaults is byte-identical to one generated before the settings existed. Every share
is a probability in [0, 1]; what each one counts is said in ``FIELDS`` (the text is also the
help of ``--noise``). Settings are written as ``name=value,name=value`` on the command line
and in truth/synth.json (only the values that differ from the defaults).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

__all__ = ["FIELDS", "NoiseSettings", "SynthError"]


class SynthError(ValueError):
    """A bad argument; the message is in Chinese, for the user."""


@dataclass(frozen=True)
class Field:
    """How one setting is described and checked."""

    label: str  # Chinese, for messages and help
    low: float = 0.0
    high: float = 1.0


# Name -> description. Order is the order of ``NoiseSettings``' fields.
FIELDS: dict[str, Field] = {
    "boundary_cases": Field("是否生成 policy.md 的边界用例（约 100 名儿童，需至少 300 名儿童）"),
    "twins": Field("家庭中下一个孩子与上一个孩子为双胞胎（同日出生、同父母）的概率"),
    "twin_similar_names": Field("双胞胎的名字相近（共用一个字，如 子涵/子萱）的比例"),
    "newborn_placeholder": Field(
        "出生不满 120 天的婴儿，其健康档案以“母亲姓名之子/之女”登记的比例"
    ),
    "early_placeholder": Field(
        "出生后 60 天内建立的健康档案、接种档案（儿童已满 120 天）仍以“母亲姓名之子/之女”"
        "登记且无身份证号的比例（其后的记录有正式姓名和身份证号）"
    ),
    "health_id": Field("健康档案填写儿童身份证号的比例"),
    "cdc_id": Field("接种档案填写儿童（已有的）身份证号的比例"),
    "id_missing": Field("其他来源中儿童身份证号一格留空的比例（同一儿童的其他记录仍有）"),
    "name_noise": Field(
        "儿童及家长姓名同音字、繁体字、空格、形近字等干扰的倍数（0 为不加）", 0.0, 10.0
    ),
    "name_swap": Field("儿童姓名两字名颠倒（徐昊天/徐天昊）的比例"),
    "birth_shift": Field("儿童（有三条以上记录写出生日期者）有一条记录出生日期差一天的概率"),
    "residence_code_missing": Field("现住址区划代码一格留空（同行地址仍在）的比例"),
    "hukou_code_missing": Field("户籍地区划代码一格留空（同行户籍地址仍在）的比例"),
    "address_no_province": Field("现住址不写省市（新华区××街道××社区…）的比例"),
    "address_county_short": Field("现住址只写县区简称（新华××街道××社区…）的比例"),
    "address_town_village": Field("现住址只写乡镇（街道）和村（社区）、不写县区的比例"),
    "address_street_office": Field(
        "现住址写成街道办格式（中兴路街道庆建社区光华路81号14号楼）的比例"
    ),
    "repeat_rows": Field("记录后紧跟一条完全相同的重复行的比例（应忽略）"),
    "duplicate_key_rows": Field("记录后紧跟一条同编号、内容不同的行的比例（应拒收 duplicate_key）"),
    "missing_name_rows": Field("另写一条无姓名的副本的比例（应拒收 missing_name）"),
    "missing_identity_rows": Field(
        "另写一条无可用身份证号和出生日期的副本的比例（应拒收 missing_identity）"
    ),
    "missing_both_rows": Field("另写一条既无姓名也无身份的副本的比例（两种原因都拒收）"),
    "key_reuse": Field(
        "一条记录误用同一文件上一行的记录编号的比例（应拒收 duplicate_key，该记录不计入真值）"
    ),
}
ADDRESS_STYLES = (
    "address_no_province",
    "address_county_short",
    "address_town_village",
    "address_street_office",
)
EXTRA_ROWS = (
    "repeat_rows",
    "duplicate_key_rows",
    "missing_name_rows",
    "missing_identity_rows",
    "missing_both_rows",
)
_TRUE = frozenset({"1", "true", "yes", "on", "是", "真"})
_FALSE = frozenset({"0", "false", "no", "off", "否", "假"})


@dataclass(frozen=True, slots=True)
class NoiseSettings:
    """How much of each kind of noise a synthetic county carries (see ``FIELDS``)."""

    boundary_cases: bool = True
    # Facts of the records (drawn with the population).
    twins: float = 0.035
    twin_similar_names: float = 0.0
    newborn_placeholder: float = 0.4
    early_placeholder: float = 0.0
    health_id: float = 0.5
    cdc_id: float = 0.45
    # Disturbed cells (truth/noise.csv).
    id_missing: float = 0.02
    name_noise: float = 1.0
    name_swap: float = 0.0
    birth_shift: float = 0.0
    residence_code_missing: float = 0.0
    hukou_code_missing: float = 0.0
    address_no_province: float = 0.0
    address_county_short: float = 0.0
    address_town_village: float = 0.0
    address_street_office: float = 0.0
    # Extra rows (truth/records.csv).
    repeat_rows: float = 0.004
    duplicate_key_rows: float = 0.003
    missing_name_rows: float = 0.0015
    missing_identity_rows: float = 0.0015
    missing_both_rows: float = 0.0003
    key_reuse: float = 0.0

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            spec = FIELDS[item.name]
            if item.type == "bool":
                if not isinstance(value, bool):
                    msg = f"干扰设置 {item.name}（{spec.label}）应为 是/否（1/0），实为 {value!r}"
                    raise SynthError(msg)
                continue
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not spec.low <= value <= spec.high
            ):
                msg = (
                    f"干扰设置 {item.name}（{spec.label}）应在 {_number(spec.low)} 到 "
                    f"{_number(spec.high)} 之间，实为 {value!r}"
                )
                raise SynthError(msg)
            object.__setattr__(self, item.name, float(value))
        for group, label in ((ADDRESS_STYLES, "各种现住址写法"), (EXTRA_ROWS, "各种附加行")):
            total = sum(getattr(self, name) for name in group)
            if total > 1.0:
                msg = f"{label}的比例之和（{'、'.join(group)}）不能超过 1，实为 {total:g}"
                raise SynthError(msg)

    # Text form ----------------------------------------------------------------------------
    @classmethod
    def parse(cls, text: str) -> NoiseSettings:
        """Settings from ``name=value,name=value`` (Chinese commas and spaces allowed)."""
        values: dict[str, str] = {}
        for raw in text.replace("，", ",").replace("；", ",").replace(";", ",").split(","):
            item = raw.strip()
            if not item:
                continue
            name, equals, value = item.replace("＝", "=").partition("=")
            name, value = name.strip(), value.strip()
            if not equals or not name or not value:
                msg = f"干扰设置应写成 名称=数值（多项以逗号分隔），实为 {item!r}"
                raise SynthError(msg)
            if name in values:
                msg = f"干扰设置 {name} 重复给出"
                raise SynthError(msg)
            values[name] = value
        return cls.from_mapping(values)

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> NoiseSettings:
        """Settings from names and values (numbers, booleans or their text)."""
        unknown = sorted(set(values) - set(FIELDS))
        if unknown:
            msg = f"未知的干扰设置：{'、'.join(unknown)}。可用的设置有：" + "、".join(FIELDS)
            raise SynthError(msg)
        converted: dict[str, Any] = {}
        for name, value in values.items():
            converted[name] = _convert(name, value)
        return cls(**converted)

    def changed(self) -> dict[str, float | bool]:
        """The settings that differ from the defaults, in field order."""
        return {
            item.name: getattr(self, item.name)
            for item in fields(self)
            if getattr(self, item.name) != getattr(DEFAULT_SETTINGS, item.name)
        }

    def to_text(self) -> str:
        """``name=value,...`` of the changed settings ("" for the defaults); ``parse`` reads it
        back to equal settings (floats are written with ``repr``)."""
        return ",".join(f"{name}={_text(value)}" for name, value in self.changed().items())

    # Derived values -------------------------------------------------------------------------
    @property
    def extra_thresholds(self) -> tuple[float, ...]:
        """Cumulative chances of each extra row kind (emit.EXTRA_KINDS order)."""
        total = 0.0
        found = []
        for name in EXTRA_ROWS:
            total += getattr(self, name)
            found.append(total)
        return tuple(found)

    @property
    def address_styles(self) -> tuple[tuple[str, float], ...]:
        """(style, share) of the address styles in use."""
        return tuple(
            (name.removeprefix("address_"), getattr(self, name))
            for name in ADDRESS_STYLES
            if getattr(self, name)
        )


def _convert(name: str, value: Any) -> Any:
    spec = FIELDS[name]
    if name == "boundary_cases":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        msg = f"干扰设置 {name}（{spec.label}）应为 是/否（1/0），实为 {value!r}"
        raise SynthError(msg)
    if isinstance(value, bool):
        msg = f"干扰设置 {name}（{spec.label}）应为数值，实为 {value!r}"
        raise SynthError(msg)
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip()
    try:
        if text.endswith("%"):
            return float(text[:-1]) / 100
        return float(text)
    except ValueError:
        msg = f"干扰设置 {name}（{spec.label}）应为数值，实为 {value!r}"
        raise SynthError(msg) from None


def _number(value: float) -> str:
    return f"{value:g}"


def _text(value: float | bool) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return repr(value)


DEFAULT_SETTINGS = NoiseSettings()
