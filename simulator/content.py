"""What the people of the simulated district write and say: names, phone numbers, identity numbers,
credit codes, complaints, samples. Everything is valid by the published formats (GB 11643, GB
32100, Chinese phone numbering), since a malformed value would be a bug of the simulator, not a
finding about the services."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁沈"
GIVEN = ["伟", "芳", "娜", "敏", "静", "磊", "洋", "勇", "艳", "杰", "军", "涛", "明", "超", "霞", "平", "刚",
         "桂英", "建华", "文斌", "晓东", "丽华", "志强", "海燕", "婷婷", "子涵", "浩然", "雨萱", "一鸣", "佳怡"]
ROADS = ["沪闵路", "莘松路", "七莘路", "都市路", "春申路", "虹梅南路", "浦星公路", "剑川路", "古美路", "顾戴路",
         "吴中路", "漕宝路", "银都路", "龙吴路", "莲花南路", "北翟路"]
BRANDS = ["联华超市", "全家便利店", "老盛昌", "小杨生煎", "宝岛眼镜", "链家地产", "华氏大药房", "永琪美发",
          "沙县小吃", "兰州拉面", "快客便利", "好德便利", "万科物业", "盒马鲜生"]

# 12315's usual subjects, each with what people typically write about it.
COMPLAINT_SUBJECTS = {
    "食品安全": ["购买的熟食有异味，食用后腹泻", "超市出售过期酸奶", "外卖餐食中发现异物"],
    "预付卡": ["健身房闭店，预付卡余额无法退还", "美发店办卡后拒绝按约定折扣服务", "洗车卡商家失联"],
    "价格": ["商品标价与结算价不一致", "停车场收费未明码标价", "节日期间蔬菜价格明显虚高"],
    "产品质量": ["新买的电饭煲使用一周后无法加热", "电动自行车充电器发烫变形", "儿童玩具掉漆有刺鼻气味"],
    "虚假宣传": ["保健品宣称能治疗高血压", "房产中介发布虚假房源", "眼镜店宣传近视可以治愈"],
    "服务质量": ["维修师傅上门后乱收费", "物业拒不处理电梯故障", "快递代收点拒绝退件"],
    "合同纠纷": ["家具定制逾期未交货且拒绝退款", "装修公司擅自更换材料", "二手车商隐瞒事故车况"],
}
REPORT_SUBJECTS = {
    "无证经营": ["小区门口流动摊贩售卖熟食无任何证照", "居民楼内无证加工糕点"],
    "食品安全": ["菜场摊位疑似销售病死猪肉", "餐馆后厨卫生极差，老鼠出没"],
    "计量": ["菜场摊位电子秤短斤缺两", "加油站加油机计量不准"],
    "商标侵权": ["商店销售假冒名牌运动鞋", "白酒专卖店疑似销售假酒"],
    "特种设备": ["商场自动扶梯长期未检验仍在运行", "小区电梯检验合格证已过期"],
}
INQUIRIES = ["个体工商户注册需要准备哪些材料？", "食品经营许可证到期如何延续？", "快检室周末是否开放？",
             "网购商品七日无理由退货的规定是什么？", "预付卡商家跑路后如何维权？"]

# The rapid-test rooms' published items and methods (快检项目), each method's reading range and
# positive threshold as the bureau announces them; mirrored here because no service exposes
# them over its API. A sample is tested for one item.
@dataclass(frozen=True)
class TestMethod:
    item: str
    method: str
    minimum: float
    maximum: float
    threshold: float
    # "at_or_above": a reading equal to the threshold is positive; "above": only a greater one.
    positive: str
    samples: tuple[str, ...]
    weight: float


RAPID_TESTS = (
    TestMethod("pesticide_residue", "enzyme_inhibition", 0, 100, 50, "at_or_above",
               ("青菜", "菠菜", "韭菜", "豇豆", "芹菜", "油麦菜", "小白菜", "黄瓜", "草莓"), 55),
    TestMethod("veterinary_drug_residue", "colloidal_gold", 0, 1000, 100, "above",
               ("基围虾", "鲈鱼", "鲫鱼", "鸡肉"), 10),
    TestMethod("clenbuterol", "colloidal_gold", 0, 100, 3, "at_or_above", ("猪肉", "牛肉", "羊肉"), 8),
    TestMethod("nitrite", "colorimetric", 0, 1000, 30, "above", ("咸肉", "香肠", "酱鸭"), 5),
    TestMethod("formaldehyde", "colorimetric", 0, 500, 10, "at_or_above", ("水发鱿鱼", "毛肚", "海蜇"), 5),
    TestMethod("sulfur_dioxide", "colorimetric", 0, 5, 0.1, "above", ("银耳", "枸杞", "生姜"), 5),
    TestMethod("rongalite", "colorimetric", 0, 500, 10, "at_or_above", ("粉丝", "腐竹"), 3),
    TestMethod("hydrogen_peroxide", "test_strip", 0, 1000, 5, "at_or_above", ("鸡爪", "牛百叶"), 3),
    TestMethod("acid_value", "colorimetric", 0, 20, 3, "above", ("散装菜籽油", "油条"), 3),
    TestMethod("peroxide_value", "colorimetric", 0, 2, 0.25, "above", ("散装花生油", "瓜子"), 3),
)
VENDOR_TRADES = ["蔬菜", "水产", "鲜肉", "禽蛋", "干货", "粮油", "熟食"]

_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ID_WEIGHTS = tuple(2 ** (17 - position) % 11 for position in range(17))
_ID_CHECK = "10X98765432"
MINHANG = "310112"


def uscc_check_character(first_17: str) -> str:
    """GB 32100-2015: the 18th character of a unified social credit code."""
    total = sum(_USCC_ALPHABET.index(char) * weight for char, weight in zip(first_17, _USCC_WEIGHTS, strict=True))
    return _USCC_ALPHABET[(31 - total % 31) % 31]


def uscc(rng: random.Random, kind: str = "92") -> str:
    """A valid code registered in Minhang: 91 an enterprise, 92 an individual business."""
    body = kind + MINHANG + "".join(rng.choice(_USCC_ALPHABET) for _ in range(9))
    return body + uscc_check_character(body)


def id_number(rng: random.Random) -> str:
    """A valid resident identity number (GB 11643) of an adult born in Shanghai."""
    born = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 55))
    body = f"310{rng.randrange(101, 120):03d}{born:%Y%m%d}{rng.randrange(0, 1000):03d}"
    total = sum(int(digit) * weight for digit, weight in zip(body, _ID_WEIGHTS, strict=True))
    return body + _ID_CHECK[total % 11]


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN)


def mobile_number(rng: random.Random) -> str:
    return f"1{rng.choice('3456789')}{rng.randrange(0, 10 ** 9):09d}"


def amount_yuan(rng: random.Random) -> str:
    """Most disputes are small; a few are about a prepaid card or an appliance worth thousands."""
    value = round(rng.lognormvariate(5.5, 1.1), 2)
    return f"{min(value, 200000.0):.2f}"


def address(rng: random.Random, street: str) -> str:
    return f"闵行区{street}{rng.choice(ROADS)}{rng.randrange(1, 1800)}号"


def shop_name(rng: random.Random, street: str) -> str:
    return f"{rng.choice(BRANDS)}（{street}{rng.choice(ROADS)}店）"


def vendor(rng: random.Random, stall_count: int = 40) -> tuple[str, str]:
    """A market stall holder and their stall: 王记蔬菜, 12号."""
    return f"{rng.choice(SURNAMES)}记{rng.choice(VENDOR_TRADES)}", f"{rng.randrange(1, stall_count + 1):02d}号"


def choose_test(rng: random.Random) -> TestMethod:
    return rng.choices(RAPID_TESTS, weights=[t.weight for t in RAPID_TESTS])[0]


def reading(rng: random.Random, test: TestMethod, positive: bool) -> float:
    """A reading on the method's scale that the method judges positive or negative as asked."""
    # 10% clear of the threshold either way, so rounding to two places never crosses it (the
    # smallest threshold, 0.1 g/kg, leaves 0.01 of room).
    if positive:
        return round(rng.uniform(test.threshold * 1.1, min(test.maximum, test.threshold * 3)), 2)
    return round(rng.uniform(test.minimum, test.minimum + (test.threshold - test.minimum) * 0.8), 2)


def is_positive(test: TestMethod, value: float) -> bool:
    return value >= test.threshold if test.positive == "at_or_above" else value > test.threshold
