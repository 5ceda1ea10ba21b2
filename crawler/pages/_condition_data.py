"""Tables the condition reader uses: schema.org itemCondition values, the labels of a condition
field, and the words for new, used and refurbished in titles and in condition fields."""

from __future__ import annotations

# The label of a condition field ("Zustand: Gut", "<dt>Condition</dt>").
CONDITION_LABEL = (
    r"condition|item condition|zustand|artikelzustand|estado|état|condizione|stato|stan|staat|"
    r"conditie|stare|durum|stav|állapot|состояние|kondisi|商品の状態|状態|상품상태|สภาพสินค้า|สภาพ"
)

SCHEMA_CONDITIONS = {
    "newcondition": "new",
    "usedcondition": "used",
    "refurbishedcondition": "refurbished",
    "damagedcondition": "used",
}

# Condition words, checked in this order: a "Used - Like New" item is used, a "Renewed" one
# refurbished. The `strict` list is safe in a title; `field` words only in a condition field
# ("New" in a title is marketing, in a "Condition:" field it is a fact). Words of scripts
# written without spaces (Chinese, Japanese, Thai) match inside longer words ("中古品").
# No alternation inside a word: condition.py splits these lists on "|".
CONDITION_WORDS_STRICT = (
    (
        r"renewed|refurbished|refurb|reconditioned|remanufactured|generalüberholt|"
        r"reacondicionado|ricondizionato|reconditionné|recondicionado|odnowiony|"
        r"восстановленн[ыао][йея]|翻新|整備済|리퍼",
        "refurbished",
    ),
    (
        r"pre[- ]?owned|used|second[- ]hand|gebraucht|usado|usato|d'occasion|używan[aey]|gebruikt|"
        r"open[- ]box|b-ware|б/у|подержанн[ыао][йея]|bekas|中古|二手|중고|มือสอง|"
        # the grades of Japanese flea markets: "like new", "no noticeable scratches or dirt"…
        r"新品同様|未使用に近い|目立った傷|傷や汚れ|状態が悪い",
        "used",
    ),
    (
        r"brand[- ]new|new in box|new with tags|factory sealed|sealed|nagelneu|neuf|nuevo|新品|全新",
        "new",
    ),
)
# Grades that only a used item is given ("Condition: Good", "Zustand: Wie neu"), read in a
# condition field after the refurbished words and before every other: "like new" is not new.
CONDITION_GRADES_USED = (
    r"like new|as new|wie neu|comme neuf|como nuevo|como novo|come nuovo|jak nowy|als nieuw|"
    r"excellent|very good|good|acceptable|fair|sehr gut|gut|akzeptabel|in ordnung|"
    r"très bon état|bon état|état correct|muy bueno|bueno|buen estado|aceptable|ottimo|buono|"
    r"bardzo dobry|dobry|отличное|хорошее"
)
CONDITION_WORDS_FIELD = (
    (
        r"new|neu|nuovo|nouveau|novo|nowy|nowe|nieuw|nou|yeni|nový|új|новый|новое|новая|baru|ใหม่|새상품",
        "new",
    ),
)
