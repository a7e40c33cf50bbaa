"""Chinese personal names: frequency tables and the ways clerks mistype them.

Surname weights follow the rough shares of the 2020 census ranking (percent of the
population); rare, compound and polyphonic surnames (曾、单、仇、解 are often misread by
pinyin tools) get small weights so that they occur in any county of a few thousand children.
Given names are listed most frequent first and drawn with Zipf-like weights, so that common
full names (张伟, 王芳, 李子涵) recur as they do in real registers.
"""

from __future__ import annotations

import random

# Common surnames, then polyphonic ones pinyin tools misread (曾 单 仇 解 查 朴 区 …),
# then compound ones (欧阳 司马 …).
# fmt: off
SURNAMES: tuple[tuple[str, float], ...] = (
    ("王", 7.12), ("李", 7.0), ("张", 6.74), ("刘", 5.1), ("陈", 4.61), ("杨", 3.22),
    ("黄", 2.45), ("赵", 2.19), ("吴", 2.0), ("周", 1.95), ("徐", 1.45), ("孙", 1.38),
    ("马", 1.29), ("朱", 1.28), ("胡", 1.16), ("郭", 1.13), ("何", 1.06), ("林", 1.02),
    ("高", 1.0), ("罗", 0.95), ("郑", 0.9), ("梁", 0.86), ("谢", 0.76), ("宋", 0.7), ("唐", 0.69),
    ("许", 0.67), ("韩", 0.64), ("冯", 0.61), ("邓", 0.6), ("曹", 0.59), ("彭", 0.57),
    ("曾", 0.55), ("肖", 0.54), ("田", 0.52), ("董", 0.51), ("袁", 0.5), ("潘", 0.49),
    ("于", 0.48), ("蒋", 0.47), ("蔡", 0.46), ("余", 0.45), ("杜", 0.44), ("叶", 0.43),
    ("程", 0.42), ("苏", 0.41), ("魏", 0.4), ("吕", 0.39), ("丁", 0.38), ("任", 0.37),
    ("沈", 0.36), ("姚", 0.35), ("卢", 0.34), ("姜", 0.33), ("崔", 0.32), ("钟", 0.31),
    ("谭", 0.3), ("陆", 0.29), ("汪", 0.28), ("范", 0.27), ("金", 0.26), ("石", 0.25),
    ("廖", 0.24), ("贾", 0.23), ("夏", 0.22), ("韦", 0.21), ("付", 0.2), ("方", 0.19),
    ("白", 0.18), ("邹", 0.17), ("孟", 0.16), ("熊", 0.15), ("秦", 0.15), ("邱", 0.14),
    ("江", 0.14), ("尹", 0.13), ("薛", 0.13), ("闫", 0.12), ("段", 0.12), ("雷", 0.11),
    ("侯", 0.11), ("龙", 0.1), ("史", 0.1), ("陶", 0.1), ("黎", 0.09), ("贺", 0.09), ("顾", 0.09),
    ("毛", 0.09), ("郝", 0.08), ("龚", 0.08), ("邵", 0.08), ("万", 0.08), ("钱", 0.07),
    ("严", 0.07), ("覃", 0.07), ("武", 0.07), ("戴", 0.07), ("莫", 0.06), ("孔", 0.06),
    ("向", 0.06), ("常", 0.06), ("翟", 0.05), ("牛", 0.05), ("申", 0.04), ("岳", 0.04),
    ("樊", 0.04), ("楚", 0.02), ("聂", 0.04), ("单", 0.03), ("仇", 0.02), ("解", 0.03),
    ("查", 0.02), ("朴", 0.02), ("区", 0.01), ("缪", 0.02), ("乐", 0.02), ("盖", 0.02),
    ("尉", 0.01), ("员", 0.01), ("种", 0.005), ("繁", 0.005), ("过", 0.005), ("召", 0.005),
    ("阚", 0.01), ("欧阳", 0.03), ("司马", 0.01), ("上官", 0.01), ("诸葛", 0.006),
    ("东方", 0.005), ("皇甫", 0.006), ("尉迟", 0.003), ("公孙", 0.003), ("慕容", 0.003),
    ("令狐", 0.004), ("司徒", 0.005), ("夏侯", 0.003), ("端木", 0.002), ("长孙", 0.002),
)
# fmt: on
COMPOUND_SURNAMES = frozenset(name for name, _ in SURNAMES if len(name) == 2)

# Children born 2007-2025.
# fmt: off
BOY_NAMES = (
    "浩宇", "子轩", "宇轩", "浩然", "梓轩", "一鸣", "俊杰", "宇航", "子豪", "博文", "皓轩",
    "沐宸", "梓睿", "奕辰", "宇泽", "子墨", "明轩", "天佑", "思远", "浩轩", "睿", "杰", "轩",
    "浩", "宇", "博", "阳", "晨", "鑫", "伟", "涛", "磊", "嘉豪", "泽宇", "一诺", "子睿", "铭泽",
    "俊熙", "晨阳", "文博", "锦程", "宇辰", "家乐", "浩楠", "梓豪", "子航", "志豪", "子健",
    "佳豪", "昊天", "佑辰", "书豪",
)
# fmt: on
# fmt: off
GIRL_NAMES = (
    "子涵", "梓涵", "欣怡", "一诺", "雨桐", "梓萱", "诗涵", "可馨", "语桐", "若汐", "依诺",
    "雨涵", "思涵", "佳怡", "欣妍", "梦瑶", "紫涵", "佳琪", "雨欣", "静怡", "涵", "悦", "琪",
    "婷", "静", "怡", "萱", "妍", "婧", "欣", "璐", "娜", "梓琪", "诗雨", "语嫣", "沐晴", "嘉怡",
    "思彤", "雅琪", "梦琪", "晨曦", "欣然", "佳欣", "心怡", "子萱", "雨萱", "可欣", "佳瑶",
    "艺涵", "思琪", "一涵", "安琪",
)
# fmt: on
# Parents born 1970-2000.
# fmt: off
MAN_NAMES = (
    "伟", "强", "磊", "军", "勇", "杰", "涛", "超", "明", "刚", "平", "辉", "鹏", "华", "飞",
    "鑫", "波", "斌", "宇", "浩", "凯", "健", "俊", "帆", "帅", "旭", "宁", "龙", "林", "欢",
    "阳", "建华", "建国", "志强", "永刚", "海涛", "小龙", "晓东", "国强", "文博", "红军", "建军",
    "国庆", "海军", "金龙", "振华", "利军",
)
# fmt: on
# fmt: off
WOMAN_NAMES = (
    "芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "燕", "玲", "丹", "萍", "红", "婷", "雪",
    "琳", "洁", "颖", "倩", "晶", "慧", "莉", "秀英", "桂英", "秀兰", "丽娟", "海燕", "晓燕",
    "红梅", "丽华", "雪梅", "春梅", "小红", "晓丽", "玉兰", "凤霞", "亚楠", "文静", "婷婷",
    "丽丽", "晓静", "艳红", "秀梅", "彩霞", "俊霞",
)
# fmt: on
# Grandparents born 1945-1975.
# fmt: off
ELDER_MAN_NAMES = (
    "建国", "国华", "国庆", "德胜", "保国", "长海", "金山", "福生", "玉林", "振东", "国强",
    "建设", "文明", "永福", "树林", "春生", "占军", "明亮", "守义", "学军",
)
# fmt: on
# fmt: off
ELDER_WOMAN_NAMES = (
    "秀兰", "桂英", "玉兰", "凤英", "秀珍", "桂兰", "秀英", "玉珍", "淑珍", "凤兰", "玉梅",
    "秀云", "桂芳", "翠花", "春兰", "素梅", "玉凤", "金花", "爱莲", "改云",
)
# fmt: on
# Uyghur given names; a full name is the own name, a middle dot and the father's name.
# fmt: off
UYGHUR_MAN_NAMES = (
    "买买提", "艾力", "阿不都", "吐尔逊", "艾买提", "热合曼", "阿迪力", "伊力哈木", "努尔",
    "艾克拜尔", "亚森", "玉素甫", "阿力木", "麦麦提", "依明",
)
# fmt: on
# fmt: off
UYGHUR_WOMAN_NAMES = (
    "阿依古丽", "古丽娜尔", "帕提古丽", "热依拉", "迪丽努尔", "米热古丽", "阿依努尔", "祖丽皮亚",
    "努尔古丽", "再努尔", "阿娜尔", "古丽巴哈尔",
)
# fmt: on
MIDDLE_DOT = "·"
DOT_VARIANTS = ("•", "‧", "・", ".")

# Characters that sound alike (同音/近音) and are swapped in registers: 李静/李婧.
# fmt: off
HOMOPHONES: dict[str, tuple[str, ...]] = {
    "静": ("婧", "晶", "菁"), "婧": ("静",), "伟": ("玮", "炜", "威"), "丽": ("莉", "俐", "力"),
    "芳": ("方", "芬"), "娜": ("纳", "那"), "敏": ("珉", "明"), "杰": ("洁", "捷"),
    "磊": ("垒", "蕾"), "涵": ("晗", "含", "寒"), "轩": ("萱", "宣", "暄"), "萱": ("轩", "宣"),
    "怡": ("宜", "仪", "依"), "梓": ("子", "紫"), "子": ("梓", "紫"), "宇": ("雨", "语", "羽"),
    "雨": ("宇", "语"), "浩": ("皓", "昊", "好"), "琳": ("林", "霖", "玲"), "婷": ("亭", "庭"),
    "欣": ("馨", "鑫", "新"), "佳": ("家", "嘉"), "明": ("铭", "鸣", "名"),
    "晨": ("辰", "宸", "臣"), "一": ("依", "伊", "亿"), "诺": ("若", "娜"), "博": ("波", "柏"),
    "文": ("雯", "闻", "雲"), "鑫": ("欣", "新"), "瑶": ("遥", "尧"), "琪": ("淇", "祺", "棋"),
    "泽": ("则", "择"), "豪": ("浩", "昊"), "涛": ("滔", "韬"), "强": ("蔷", "墙"),
    "军": ("君", "俊"), "勇": ("永", "涌"), "艳": ("燕", "雁"), "燕": ("艳", "雁"),
    "娟": ("涓", "鹃"), "霞": ("侠", "夏"), "红": ("虹", "宏", "鸿"), "华": ("桦", "骅"),
    "平": ("萍", "苹"), "萍": ("平", "苹"), "辉": ("晖", "慧"), "鹏": ("朋", "彭"),
    "飞": ("菲", "非"), "斌": ("彬", "滨"), "凯": ("锴", "恺"), "健": ("建", "剑"),
    "玲": ("琳", "铃", "灵"), "雪": ("学", "薛"), "慧": ("惠", "蕙"), "英": ("莹", "瑛"),
    "兰": ("岚", "蓝"), "梅": ("玫", "媚"), "洁": ("杰", "婕"), "颖": ("莹", "影"),
    "倩": ("茜", "芊"), "妍": ("研", "艳"), "晶": ("静", "菁"), "阳": ("杨", "洋"),
    "龙": ("隆", "珑"), "林": ("琳", "霖"), "悦": ("月", "玥", "越"), "彤": ("桐", "童"),
    "桐": ("彤", "童"), "汐": ("溪", "夕"), "睿": ("瑞", "锐"), "航": ("杭", "行"),
}
# fmt: on
# Characters of similar shape (形近字) that a fast typist confuses.
# fmt: off
SHAPE_TYPOS: dict[str, str] = {
    "王": "玉", "玉": "王", "娟": "涓", "晓": "哓", "萍": "苹", "己": "已", "未": "末",
    "天": "夭", "日": "曰", "杨": "扬", "扬": "杨", "刘": "浏", "陈": "阵", "郑": "邓",
    "于": "干", "田": "由", "申": "甲", "伟": "传", "勇": "男", "涛": "寿", "博": "搏",
    "梓": "锌", "鑫": "鍂", "浩": "告", "宇": "字", "轩": "轨", "涵": "函", "婷": "亭",
    "琳": "淋", "欣": "忻", "静": "净", "明": "朋", "辉": "挥", "斌": "赋", "凯": "恺",
}
# fmt: on
# Simplified to traditional (张偉 style records from old systems and Taiwan-style input).
# fmt: off
TRADITIONAL: dict[str, str] = {
    "张": "張", "伟": "偉", "刘": "劉", "陈": "陳", "杨": "楊", "黄": "黃", "赵": "趙",
    "吴": "吳", "郑": "鄭", "孙": "孫", "马": "馬", "罗": "羅", "许": "許", "邓": "鄧",
    "冯": "馮", "韩": "韓", "叶": "葉", "钟": "鍾", "汤": "湯", "丽": "麗", "华": "華",
    "静": "靜", "红": "紅", "军": "軍", "杰": "傑", "涛": "濤", "强": "強", "艳": "艷",
    "凤": "鳳", "兰": "蘭", "龙": "龍", "国": "國", "东": "東", "书": "書", "轩": "軒",
    "诗": "詩", "泽": "澤", "铭": "銘", "语": "語", "诺": "諾", "乐": "樂", "阳": "陽",
    "欧": "歐", "单": "單", "买": "買", "顾": "顧", "卢": "盧", "苏": "蘇", "萧": "蕭",
    "谢": "謝", "宁": "寧", "鹏": "鵬", "飞": "飛", "辉": "輝", "凯": "凱", "颖": "穎",
    "晓": "曉", "梦": "夢", "瑶": "瑤", "锦": "錦", "乔": "喬", "韦": "韋", "邹": "鄒",
    "闫": "閆", "贺": "賀", "龚": "龔", "钱": "錢", "严": "嚴", "聂": "聶", "岳": "嶽",
    "缪": "繆", "诸": "諸", "长": "長", "热": "熱", "尔": "爾",
}
# fmt: on
NEWBORN_SON = "之子"
NEWBORN_DAUGHTER = "之女"
PLACEHOLDER_ENDINGS = (NEWBORN_SON, NEWBORN_DAUGHTER)


def zipf_weights(count: int, exponent: float = 0.9) -> list[float]:
    return [1.0 / (rank**exponent) for rank in range(1, count + 1)]


def uyghur_name(own: str, father: str) -> str:
    return f"{own}{MIDDLE_DOT}{father}"


def newborn_placeholder(mother_name: str, *, male: bool) -> str:
    """How maternity wards register an unnamed baby: 王芳之子 / 王芳之女."""
    return mother_name + (NEWBORN_SON if male else NEWBORN_DAUGHTER)


def split_name(name: str) -> tuple[str, str]:
    """(surname, given name) of a Han name; minority names are returned whole as given name."""
    if MIDDLE_DOT in name:
        return "", name
    if name[:2] in COMPOUND_SURNAMES:
        return name[:2], name[2:]
    return name[:1], name[1:]


def homophone(name: str, rng: random.Random) -> str | None:
    """``name`` with one given-name character replaced by a homophone, or None if none fits."""
    surname, given = split_name(name)
    spots = [i for i, char in enumerate(given) if char in HOMOPHONES]
    if not spots:
        return None
    spot = rng.choice(spots)
    replacement = rng.choice(HOMOPHONES[given[spot]])
    return surname + given[:spot] + replacement + given[spot + 1 :]


def shape_typo(name: str, rng: random.Random) -> str | None:
    spots = [i for i, char in enumerate(name) if char in SHAPE_TYPOS]
    if not spots:
        return None
    spot = rng.choice(spots)
    return name[:spot] + SHAPE_TYPOS[name[spot]] + name[spot + 1 :]


def traditional(name: str) -> str | None:
    converted = "".join(TRADITIONAL.get(char, char) for char in name)
    return converted if converted != name else None


def inner_space(name: str, rng: random.Random) -> str | None:
    """张三 written as ``张 三`` or with an ideographic space."""
    if len(name) < 2 or MIDDLE_DOT in name:
        return None
    surname, _ = split_name(name)
    spot = len(surname) if rng.random() < 0.7 else rng.randrange(1, len(name))
    space = " " if rng.random() < 0.7 else "\u3000"
    return name[:spot] + space + name[spot:]


def dot_variant(name: str, rng: random.Random) -> str | None:
    if MIDDLE_DOT not in name:
        return None
    return name.replace(MIDDLE_DOT, rng.choice(DOT_VARIANTS))


def swapped(name: str) -> str | None:
    """``name`` with the two characters of its given name in the other order (徐昊天/徐天昊);
    None for other names (one or three characters, minority names, newborn placeholders)."""
    if MIDDLE_DOT in name or name.endswith(PLACEHOLDER_ENDINGS):
        return None
    surname, given = split_name(name)
    if len(given) != 2 or given[0] == given[1]:
        return None
    return surname + given[::-1]


def similar_given(given: str, pool: tuple[str, ...], rng: random.Random) -> str:
    """A given name sharing its first character with ``given`` (子涵/子萱), from ``pool`` where
    one fits, else made of that character and the last character of another name."""
    first = given[:1]
    found = [n for n in pool if len(n) == 2 and n[0] == first and n != given]
    if found:
        return rng.choice(found)
    endings = sorted({n[-1] for n in pool if n[-1] not in given})
    return first + rng.choice(endings)
