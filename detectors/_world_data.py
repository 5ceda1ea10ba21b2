"""Words of every market the detectors read beside a brand term: 'official', 'store', 'repair' and
the phishing vocabulary in other languages and scripts, and which languages a country's domains
are written in. Data, not logic (see _data.py for the English vocabulary).

Latin-script words are written as `normalize.fold` leaves them: lowercase ASCII, accents dropped
('offizieller', 'chinhhang', 'satici' for satıcı). Transliterations squatters put in domains are
here too ('guanfang' = 官方, 'koushiki' = 公式, 'gongsik' = 공식). Words in other scripts are
written as typed (NFKC, lowercase): CJK and Thai have no spaces, so a name such as
'小米官方旗舰店' is split into these words by the longest match."""

# --- Latin script (folded to ASCII) ---------------------------------------------------------

# 'official', 'authorized', 'genuine', 'flagship' in other languages, and their romanizations.
WORLD_CLAIM_WORDS = frozenset(
    """offizieller offizielle offiziellen offizielles officielle officiels officielles
    officiele officieel officiell officiella officielt offisiell offisielle ufficiale ufficiali
    oficiales oficiais oficialmente oficjalny oficjalna oficjalne oficjalnego oficialni oficialna
    oficialne oficialus hivatalos virallinen viralliset resmi rasmi resmiy yetkili
    chinhhang chinh hang autorizado autorizada autorizados autorisiert autorisierter autorise
    autorisee autorizzato autorizzata autoryzowany zertifiziert certifie certificado
    guanfang guanwang qijiandian zhiying zhuanmaidian koushiki seiki seikidairiten dairiten
    gongsik jeongpum thangkan ofitsialnyy ofitsialnyi ofitsialny oficialnyj ofitsiyniy
    originale originali originais""".split()
)

# Shop words in other languages (and 'store'/'shop' romanized from Japanese and Korean).
WORLD_RETAIL_WORDS = frozenset(
    """tienda tiendas loja lojas negozio negozi winkel sklep obchod kauppa butik butikk
    toko kedai bolt cuahang magazin magazyn magaza satici handler haendler haendlers
    revendeur distribuidor distributore rivenditore vendedor shoppu sutoa sutoaa mall
    sklepu obchodu einkaufen venta ventas vendita""".split()
)

# Phishing and account vocabulary beside a brand: finding, locating, alerting, signing in.
WORLD_SUPPORT_WORDS = frozenset(
    """locate locator location find findmy findmyphone findphone finder tracker alert
    alerts notice notification notifications signin device devices desk helpdesk frp
    cloud icloudunlock bypass unlocking verifying appleid passcode password
    reset confirm confirmation suspended blocked""".split()
)

# Accessory and repair trades: beside a brand they name what the trade works on.
WORLD_AFTERMARKET_WORDS = frozenset(
    """case cases cover covers charger chargers cable cables screen screens protector
    protectors strap straps skin skins laces lace bricks brick compatible
    spare spares battery batteries glass mods reparatur reparatie reparation riparazione
    reparacion naprawa servis""".split()
)

# --- other scripts (as typed, lowercase) ----------------------------------------------------

WORLD_SCRIPT_WORDS: dict[str, frozenset[str]] = {
    # official, authorized, genuine, flagship, exclusive (brand-licensed) store
    "claim": frozenset(
        """官方 官网 官網 官方店 旗舰店 旗艦店 旗舰 旗艦 正品 授权 授權 直营 直營 专卖店 專賣店 专营店
        專營店 认证 認證 公式 正規 正规 直営 認定 正規品 공식 정품 공인 공식몰 공식스토어
        официальный официальная официальное официальные официального официальном официальном
        официален официална офіційний офіційна офіційне фирменный фирменная авторизованный
        رسمي الرسمي رسمی الرسمية رسمية معتمد المعتمد رسمیت
        επίσημο επίσημος επίσημη επίσημα आधिकारिक अधिकृत ทางการ อย่างเป็นทางการ ของแท้
        רשמי הרשמי מורשה""".split()
    ),
    # shop, mall, dealer, phone, digital, experience store
    "retail": frozenset(
        """商城 网店 網店 店 商店 店铺 店舖 专卖 手机 手機 数码 數碼 体验店 體驗店 批发 批發 网 网站 中心
        ストア ショップ 販売店 代理店 店舗 オンラインストア 스토어 몰 판매점 매장 샵 쇼핑몰
        магазин магазина маркет интернет-магазин дилер салон متجر فروشگاه متجر_ κατάστημα
        स्टोर दुकान ร้าน ร้านค้า חנות""".split()
    ),
    # account, login, support, recovery
    "support": frozenset(
        """客服 售后 售後 登录 登錄 账号 賬號 账户 云服务 サポート アカウント 고객센터 계정 로그인
        поддержка аккаунт вход الدعم حساب""".split()
    ),
    # repair, accessories, second-hand: an independent trade in the brand's goods
    "aftermarket": frozenset(
        """维修 維修 配件 二手 手机壳 修理 保护壳 수리 액세서리 케이스 ремонт чехлы чехол аксессуары
        запчасти ซ่อม إصلاح صيانة תיקון""".split()
    ),
    # 'the home of': '小米之家' (Mi Home) names the brand's own place, like 'Xiaomi Home'
    "filler": frozenset("之家 의집".split()),
}

# --- languages --------------------------------------------------------------------------------

# Latin-script languages wordfreq lists, by code: a word common in one of these is a real word.
WORD_LANGUAGES = {
    "de": "German",
    "fr": "French",
    "es": "Spanish",
    "it": "Italian",
    "pt": "Portuguese",
    "nl": "Dutch",
    "pl": "Polish",
    "sv": "Swedish",
    "da": "Danish",
    "nb": "Norwegian",
    "fi": "Finnish",
    "tr": "Turkish",
    "id": "Indonesian",
    "ms": "Malay",
    "cs": "Czech",
    "hu": "Hungarian",
    "ro": "Romanian",
    "ca": "Catalan",
}

# The languages a country-code domain is mostly written in (for common-word checks).
TLD_LANGUAGES = {
    "nl": ("nl",),
    "be": ("nl", "fr"),
    "de": ("de",),
    "at": ("de",),
    "ch": ("de", "fr", "it"),
    "fr": ("fr",),
    "es": ("es", "ca"),
    "mx": ("es",),
    "ar": ("es",),
    "co": ("es",),
    "cl": ("es",),
    "pe": ("es",),
    "it": ("it",),
    "pt": ("pt",),
    "br": ("pt",),
    "pl": ("pl",),
    "se": ("sv",),
    "dk": ("da",),
    "no": ("nb",),
    "fi": ("fi",),
    "tr": ("tr",),
    "id": ("id",),
    "my": ("ms",),
    "cz": ("cs",),
    "hu": ("hu",),
    "ro": ("ro",),
    "cat": ("ca",),
}
