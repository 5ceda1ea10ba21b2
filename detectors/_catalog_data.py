"""Tables the catalog matcher reads (detectors/titles.py, detectors/models.py): which title
words are variant attributes recorded beside a match, which words after a model number make
it another model, and brand names written in other scripts."""

from __future__ import annotations

# Words after a model number that name another model ("14" → "14 Pro", "Pura 70 Pro" →
# "Pura 70 Pro+"). The catalog adds every word that follows a number in one of its names
# ("Find N3 Flip", "edge 40 neo"); any single letter counts too ("Reno11 F", "12R", "8a").
IDENTITY_SUFFIXES = frozenset(
    """pro plus max ultra lite fe mini neo prime turbo fold flip edge se xl ultimate premium
    play active compact ii iii iv vi vii viii ix""".split()
)

# Words that say "a phone" in any line's name ("CMF Phone 1", "ROG Phone 8"): a name whose
# only line word is one of these does not stand without the brand.
GENERIC_LINE_WORDS = frozenset(
    """phone phones smartphone mobile cellphone handy telefon telefono celular""".split()
)

# Storage units: "256GB", "256 GB", "256 Go" (French), "256G", "1TB", "1T", "256 ГБ".
STORAGE_UNITS = {"gb": 1, "g": 1, "go": 1, "гб": 1, "tb": 1024, "t": 1024, "to": 1024, "тб": 1024}
# Sizes a phone's storage comes in (GB), to tell "8/128" (RAM/storage) from "8/8" (two models).
STORAGE_SIZES = frozenset({16, 32, 64, 128, 256, 512, 1024, 2048})
# RAM words that say the number beside them is memory, not storage.
RAM_WORDS = frozenset({"ram", "memory", "memoria", "speicher", "運存", "运存", "内存"})
# Numbers with these units describe the goods, never a model (5000mAh, 80W, 120Hz, 50MP).
MEASURE_UNITS = (
    "mah",
    "wh",
    "w",
    "hz",
    "mp",
    "mpx",
    "inch",
    "mm",
    "cm",
    "gbps",
    "mbps",
    "pcs",
    "pack",
    "pc",
)

# Numbers that are no model: a software version, a warranty or delivery time, a grade.
NOISE_PATTERNS = (
    r"(?:android|ios|miui|hyperos|harmonyos|one\s?ui|oxygenos|coloros|funtouch\s?os|magicos|emui)\s*\d+(?:\.\d+)?",
    r"\d+\s*(?:years?|months?|jahre?|monate?|tahun|bulan|anos?|años?|mois|mesi|ans?|hours?|days?|jam|hari|stunden?)",
    r"\d+\s*/\s*10(?!\d)",
)
# Condition phrases that read like a model's words ('Open Box - OnePlus 12' is no OnePlus Open).
CONDITION_ATTRIBUTE_PHRASES = ("open box", "open-box")

# Variant attributes recorded beside a match. Multi-word phrases are matched as written.
NETWORK_WORDS = ("5g", "4g", "3g", "lte")
SIM_PHRASES = (
    "dual sim",
    "dual-sim",
    "single sim",
    "esim",
    "e-sim",
    "sim free",
    "sim-free",
    "simフリー",
    "sim フリー",
    "unlocked",
    "libre",
    "desbloqueado",
    "entsperrt",
)
REGION_PHRASES = (
    "global version",
    "global rom",
    "international version",
    "eu version",
    "us version",
    "uk version",
    "cn version",
    "china version",
    "hk version",
    "japan version",
    "india version",
    "malaysia set",
    "export set",
    "local set",
    "garansi resmi",
    "resmi indonesia",
    "国行",
    "国内版",
    "港版",
    "台灣公司貨",
    "docomo版",
    "au版",
    "softbank版",
    "global",
)
COLOUR_WORDS = frozenset(
    """black white silver grey gray gold blue green red pink purple violet yellow orange
    titanium graphite midnight obsidian porcelain cream beige bronze lavender mint jade
    schwarz weiss weiß blau grun grün rot silber grau negro blanco azul verde rojo gris
    plata morado noir blanc bleu vert rouge gris argent nero bianco blu preto branco
    cinza hitam putih biru hijau merah ungu abu emas czarny bialy biały niebieski
    черный чёрный белый синий зеленый зелёный серый
    黑 白 蓝 绿 红 金 银 灰 紫 粉 黒 ブラック ホワイト ブルー グリーン シルバー""".split()
)

# Brand names written in another script, as they stand in titles ("一加12", "华为 Mate 60",
# "वनप्लस 12R"): each reads as the Latin brand word for brand evidence. Only names that are
# not ordinary words elsewhere (王者荣耀, a game, holds 荣耀: matched as a whole run only).
LOCAL_BRAND_NAMES = {
    "一加": "oneplus",
    "华为": "huawei",
    "華為": "huawei",
    "ファーウェイ": "huawei",
    "荣耀": "honor",
    "榮耀": "honor",
    "小米": "xiaomi",
    "シャオミ": "xiaomi",
    "红米": "redmi",
    "紅米": "redmi",
    "三星": "samsung",
    "サムスン": "samsung",
    "삼성": "samsung",
    "苹果": "apple",
    "蘋果": "apple",
    "アップル": "apple",
    "애플": "apple",
    "索尼": "sony",
    "ソニー": "sony",
    "소니": "sony",
    "谷歌": "google",
    "グーグル": "google",
    "摩托罗拉": "motorola",
    "モトローラ": "motorola",
    "真我": "realme",
    "魅族": "meizu",
    "努比亚": "nubia",
    "红魔": "redmagic",
    "紅魔": "redmagic",
    "中兴": "zte",
    "联想": "lenovo",
    "诺基亚": "nokia",
    "ノキア": "nokia",
    "オッポ": "oppo",
    "エクスペリア": "xperia",
    "वनप्लस": "oneplus",
    "सैमसंग": "samsung",
    "एप्पल": "apple",
    "शाओमी": "xiaomi",
    "रियलमी": "realme",
    "ओप्पो": "oppo",
    "वीवो": "vivo",
    "मोटोरोला": "motorola",
    "गूगल": "google",
}
