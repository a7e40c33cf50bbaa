"""Making people: names, ID numbers, phones and addresses."""

from __future__ import annotations

import re
from datetime import date

import numpy as np

from tonghu.synth import names
from tonghu.synth.draws import Dice, Sampler
from tonghu.synth.geo import Geography, Village
from tonghu.synth.ids import IdAllocator
from tonghu.synth.model import FEMALE, MALE, Person

PHONE_PREFIXES = (
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151",
    "152", "155", "156", "157", "158", "159", "166", "173", "175", "176", "177", "180",
    "181", "182", "183", "185", "186", "187", "188", "189", "191", "198", "199",
)  # fmt: skip
ROADS = ("建设路", "中兴路", "光明路", "新华路", "矿工路", "曙光街", "胜利街", "开源路",
         "湛河路", "凌云路", "体育路", "优越路")  # fmt: skip


class People:
    """Draws names, IDs and phones with realistic frequencies."""

    def __init__(
        self,
        *,
        dice: Dice,
        generator: np.random.Generator,
        geo: Geography,
        shard: int = 0,
        shards: int = 1,
    ) -> None:
        self.dice = dice
        self.geo = geo
        self.ids = IdAllocator(dice.rng, shard=shard, shards=shards)
        self._surname = Sampler(
            generator, [name for name, _ in names.SURNAMES], [w for _, w in names.SURNAMES]
        )
        self._given = {
            "boy": _zipf(generator, names.BOY_NAMES),
            "girl": _zipf(generator, names.GIRL_NAMES),
            "man": _zipf(generator, names.MAN_NAMES),
            "woman": _zipf(generator, names.WOMAN_NAMES),
            "elder_man": _zipf(generator, names.ELDER_MAN_NAMES),
            "elder_woman": _zipf(generator, names.ELDER_WOMAN_NAMES),
        }

    def surname(self) -> str:
        return self._surname.draw()

    def given(self, kind: str) -> str:
        return self._given[kind].draw()

    def child_given(self, *, male: bool, avoid: set[str]) -> str:
        for _ in range(20):
            given = self.given("boy" if male else "girl")
            if given not in avoid:
                return given
        return given + self.dice.pick("一二三")

    def phone(self) -> str:
        return self.dice.pick(PHONE_PREFIXES) + f"{self.dice.between(0, 99_999_999):08d}"

    def issue_id(self, area: str, birth: date, *, male: bool) -> str:
        return self.ids.issue(area, birth, male=male)

    def adult(
        self,
        *,
        male: bool,
        birth: date,
        area: str,
        surname: str | None = None,
        elder: bool = False,
        uyghur: bool = False,
    ) -> Person:
        if uyghur:
            own = self.dice.pick(names.UYGHUR_MAN_NAMES if male else names.UYGHUR_WOMAN_NAMES)
            name = names.uyghur_name(own, self.dice.pick(names.UYGHUR_MAN_NAMES))
        else:
            kind = ("elder_" if elder else "") + ("man" if male else "woman")
            name = (surname or self.surname()) + self.given(kind)
        phone = self.phone()
        old_phone = self.phone() if self.dice.chance(0.15) else ""
        return Person(
            name=name,
            sex=MALE if male else FEMALE,
            birth=birth,
            id_number=self.issue_id(area, birth, male=male),
            phone=phone,
            old_phone=old_phone,
        )

    def id_area(self, hukou_county: str) -> str:
        """Where an ID was first issued: usually the hukou county, sometimes a neighbour."""
        if self.dice.chance(0.94):
            return hukou_county
        same_province = [
            c for c in self.geo.hukou_groups["same_province"] if c[:2] == hukou_county[:2]
        ]
        pool = same_province or self.geo.hukou_groups["same_city"]
        return self.dice.pick(pool)


def _zipf(generator: np.random.Generator, items: tuple[str, ...]) -> Sampler[str]:
    return Sampler(generator, items, names.zipf_weights(len(items)))


PROVINCE_CITY = "河南省平顶山市"
COUNTY_NAME = "新华区"
COUNTY_SHORT = "新华"
_COMMUNITY_REST = re.compile(r"(\D+?)(\d+)号院(\d+)号楼")


def street_address(village: Village, dice: Dice) -> str:
    """A current address inside the deployment county."""
    base = f"{PROVINCE_CITY}{COUNTY_NAME}{village.town_name}{village.name}"
    if village.is_community:
        road = dice.pick(ROADS)
        return (
            f"{base}{road}{dice.between(1, 300)}号院{dice.between(1, 30)}号楼"
            f"{dice.between(1, 6)}单元{dice.between(1, 28)}0{dice.between(1, 4)}室"
        )
    return f"{base}{dice.between(1, 12)}组{dice.between(1, 99)}号"


def hukou_address(geo: Geography, county6: str, village: Village | None, dice: Dice) -> str:
    """The hukou address: a village of the deployment county, or an invented one elsewhere."""
    if village is not None:
        return f"河南省平顶山市新华区{village.town_name}{village.name}{dice.between(1, 99)}号"
    town = dice.pick("东西南北中新大小") + dice.pick("集庄店岗楼营寨桥河湾")
    place = dice.pick("王李张刘陈杨赵黄周吴") + dice.pick("庄村屯寨沟洼湾")
    return f"{geo.county_label(county6)}{town}镇{place}{dice.between(1, 80)}号"


def restyle(address: str, village: Village, style: str) -> tuple[str, str] | None:
    """``address`` (a full ``street_address`` of ``village``) written in another style:
    ``no_province`` (新华区…), ``county_short`` (新华…), ``town_village`` (乡镇村…) or
    ``street_office`` (中兴路街道庆建社区光华路81号14号楼; a village address falls back to
    ``town_village``). Returns (new address, the style used), or None if ``address`` is not a
    full address of ``village``."""
    place = f"{village.town_name}{village.name}"
    full = f"{PROVINCE_CITY}{COUNTY_NAME}{place}"
    if not address.startswith(full):
        return None
    rest = address[len(full) :]
    if style == "no_province":
        return f"{COUNTY_NAME}{place}{rest}", style
    if style == "county_short":
        return f"{COUNTY_SHORT}{place}{rest}", style
    if style == "street_office":
        found = _COMMUNITY_REST.match(rest)
        if found is not None:
            road, number, building = found.groups()
            return f"{place}{road}{number}号{building}号楼", style
    return f"{place}{rest}", "town_village"
