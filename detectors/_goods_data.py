"""Word tables for telling a device from everything sold under its name (detectors/goods.py):
services, display dummies, empty boxes, parts and accessories, in the languages of the major
marketplaces. Latin words are matched as whole words (German compounds by their head, see
COMPOUND_HEADS), after accents are taken off ('Hülle' → 'hulle'); words in scripts written
without spaces (Chinese, Japanese, Thai) anywhere in the title."""

from __future__ import annotations

# Repair, unlocking and other work on a phone: a service, never the phone.
SERVICE_WORDS = (
    "repair repairs repairing reparacion reparaciones reparatur reparation riparazione "
    "conserto servis jasa tukar ganti frp bypass rooting flashing fix fixing "
    "ремонт замена 修理 维修 維修 换屏 換屏 换电池 售后 上门 修復 交換修理 "
    "desbloqueio desbloqueo entsperrung unbrick"
)
# Phrases that make a title a service where their words alone would not.
SERVICE_PHRASES = (
    "repair service",
    "replacement service",
    "screen replacement service",
    "account removal",
    "flash file",
    "unlock service",
    "unlock bootloader",
    "bootloader unlock",
    "remote unlock",
    "cambio de pantalla",
    "troca de tela",
    "fitted in",
)
# The word 'service' alone: a service unless the title speaks of a warranty or bundles it.
SERVICE_NOUNS = "service servicio servico 服务 服務 サービス"
WARRANTY_WORDS = "warranty garansi garantie garantia garanzia 保修 保証"

# Display dummies and mock-ups: look like the phone, are not one.
DUMMY_WORDS = (
    "dummy dummies attrappe mockup mock-up maquette muestrario muletto макет муляж "
    "模型机 模型機 仿真模型 仿真机 模型 モックアップ ダミー 展示用模型"
)
DUMMY_PHRASES = ("display model non working", "non-working display", "dummy phone", "mock up")

# Packaging: a box word together with an 'empty'/'only' word, or one word that says both.
BOX_WORDS = "box dus kotak caja caixa karton verpackung boite scatola pudelko коробка 箱 盒"
EMPTY_WORDS = (
    "empty only kosong sahaja saja vacia vazia leer leere leerer vide vuota pusty пустая пустой"
)
EMPTY_PHRASES = ("no phone", "without phone", "ohne handy", "sin telefono", "sem aparelho")
# A box word right after these is the box the phone comes without ('no box', 'tanpa dus').
NEGATIONS = "no without tanpa ohne sin sem senza sans"
PACKAGING_WORDS = "空箱 空盒 空盒子 包装盒 外箱のみ 箱のみ 元箱のみ 化粧箱のみ"

# Parts: always a part, whatever else the title says.
PART_WORDS = (
    "lcd digitizer digitiser motherboard mainboard logicboard housing backglass "
    "ersatzteil ersatzteile sparepart spareparts repuesto repuestos peca pecas "
    "flex 基板 主板 总成 總成 屏幕总成 外屏 内屏 液晶パネル 液晶 "
    "タッチパネル バックパネル 背板 后盖 後蓋 电池盖 дисплейный тачскрин"
)
PART_PHRASES = (
    "back glass",
    "rear glass",
    "logic board",
    "main board",
    "back panel",
    "rear panel",
    "back housing",
    "rear housing",
    "middle frame",
    "charging port",
    "charging flex",
    "screen assembly",
    "display assembly",
    "camera module",
    "spare part",
    "replacement part",
)
# A battery, a screen or a display named with a phone: a part when the title gives no storage
# (a phone's title names its storage; '5000mAh battery' in a phone's title is a feature).
WEAK_PART_WORDS = (
    "battery batteries akku ersatzakku bateria baterai batterie аккумулятор pin "
    "電池 电池 バッテリー 배터리 display screen tela pantalla ecran schermo display "
    "replacement ersatz touchscreen 交換用 交换"
)
# 'Back cover' and 'casing' are a case unless the title says housing, glass, panel or full set.
COVER_WORDS = ("back cover", "casing", "rear cover", "battery cover", "backcover")
COVER_PART_HINTS = "housing glass panel fullset full replacement ersatz frame"

# Accessories: cases, protectors, chargers, cables, audio, holders, coolers.
ACCESSORY_WORDS = (
    "case cases cover covers hulle huelle funda fundas coque etui housse custodia bumper "
    "capa capinha pelicula carcasa softcase hardcase sarung "
    "protector protectors screenprotector tempered panzerglas schutzfolie folie film films "
    "cristal templado verre trempe pellicola "
    "charger chargers cargador carregador chargeur caricabatterie ladegerat ladekabel "
    "cable cables kabel cabo "
    "strap straps lanyard holder mount stand soporte suporte tripod gimbal stylus "
    "dock cooler trigger triggers gamepad controller microphone microfono mic "
    "earbuds earphones headphones headphone headset buds ear tws airpods "
    "wallet pouch sleeve skin skins band bands "
    "чехол стекло зарядка зарядное "
    "ケース カバー 手帳型 フィルム ガラスフィルム 保護フィルム 充電器 ケーブル イヤホン "
    "ヘッドホン ワイヤレスヘッドホン スタンド "
    "手机壳 保护套 保护壳 钢化膜 贴膜 充电器 数据线 耳机 支架 散热器 散热背夹 "
    "케이스 충전기 "
    "कवर केस चार्जर "
    "เคส ốp sạc"
)
ACCESSORY_PHRASES = ("anti gores", "screen guard", "glass protector", "ốp lưng", "cường lực")
# Accessory words that count only when the title names no storage ('Xiaomi 14 256GB + adapter').
WEAK_ACCESSORY_WORDS = "adapter adaptador plug kit"
# 'Band' names a wearable, not a strap, after these words ('Smart Band 8') or before a
# generation number that is not a size ('Band 8', not 'Band 45mm').
WEARABLE_QUALIFIERS = frozenset("smart fitness activity".split())
SIZE_UNITS = ("mm", "cm", "inch")

# German compounds end in their head noun: 'Schutzhülle', 'Handyhülle', 'Ladekabel'.
COMPOUND_HEADS = ("hulle", "huelle", "folie", "glas", "kabel", "ladegerat", "tasche", "akku")
# Words that attach what follows to a device listing ('with charger', '+ free case', 'mit Hülle').
# Not 'plus': it is a model's too ('OnePlus', 'Phone (2a) Plus').
BUNDLE_WORDS = "with incl including inkl mit con avec free gratis bonus dengan kèm"
# Words that point what precedes at the device it fits ('case for iPhone 15', 'Pixel 8 用 ケース').
FITS_WORDS = "for fur für para pour per compatible fits fit voor untuk dla 用 适用 के लिए"

# A phone sold broken or for its parts: still a device, but its price says nothing of MSRP.
BROKEN_PHRASES = (
    "for parts",
    "for spares",
    "not working",
    "no power",
    "cracked",
    "broken",
    "defekt",
    "defective",
    "para piezas",
    "para repuestos",
    "rusak",
    "mati total",
    "ジャンク",
    "故障",
    "坏机",
    "不开机",
    "на запчасти",
)

# Breadcrumb / category words of listings that are not phones (structured data).
CATEGORY_NON_DEVICE = {
    "accessory": "accessories accessory zubehor accesorios acessorios accessoires cases covers "
    "chargers cables protectors audio headphones 配件 アクセサリー aksesoris",
    "part": "parts spare spares ersatzteile repuestos pecas 零件 部品 sparepart",
    "service": "services repair repairs reparatur 维修 修理",
}
