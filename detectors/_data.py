"""Word lists and character tables the detectors consult: data, not logic.

Every list is lowercase ASCII (the form text has after `normalize.fold`). Add words here, not
inline in a detector, so a reviewer sees the whole vocabulary in one place."""

# --- words that, beside a brand term, make a domain or name present as the brand -------------

# Claims of being the brand itself or blessed by it.
CLAIM_WORDS = frozenset(
    """official officiel offiziell oficial ufficiale officiall authorized authorised authorize
    authentic genuine certified flagship licensed licenced verified original originals hq
    headquarters corporate brand brandstore partner partners distributor""".split()
)

# Words of account, support and payment pages: the vocabulary of phishing.
SUPPORT_WORDS = frozenset(
    """support service services care help helpdesk helpline account accounts login signin
    logon id verify verification secure security update updates recovery recover unlock billing
    customer customers warranty assist assistance contact refund refunds giveaway gift gifts
    prize prizes reward rewards winner claim payment payments pay invoice findmy activation
    activate locked lost renew renewal renewals subscription member members membership""".split()
)

# Account words: one of these beside a weak term ('mi-account', 'galaxy-login') is a phishing page.
ACCOUNT_WORDS = frozenset(
    "account accounts login signin logon id verify verification unlock password appleid".split()
)

# Retail and marketplace words: a shop that names itself after the brand.
RETAIL_WORDS = frozenset(
    """store stores shop shops eshop estore webshop onlineshop outlet outlets mall market
    marketplace mart deals deal sale sales discount discounts cheap cheapest offer offers promo
    promos online direct express hub center centre world zone point plaza depot warehouse
    wholesale retail retailer reseller resellers boutique bazaar club house land city planet
    phone phones mobile mobiles smartphone smartphones gadget gadgets electronics electronic
    tech technology digital accessories parts repair repairs fix trade trading import imports
    export clearance liquidation bargain bargains buy buynow order orders price prices
    store24 shop24 experience showroom gallery expo dealer dealers agent agency free home
    refurb refurbished renewed used secondhand preowned""".split()
)

# Legal-entity suffixes: the brand + one of these is styled as the brand's own company
# ('Samsung Electronics Co. Ltd', 'Apple Inc.').
CORPORATE_WORDS = frozenset(
    "inc incorporated corp corporation ltd llc plc gmbh pty pvt holdings".split()
)

# Retail words of an independent trade in the brand's products: a repairer or parts dealer names
# what it works on, so beside a brand in a domain they are worth a look, not a claim to be it.
AFTERMARKET_WORDS = frozenset("repair repairs fix parts spares accessories".split())

# Regions and markets squatters append ("xiaomi-global", "samsung-europe").
REGION_WORDS = frozenset(
    """global international intl worldwide europe european euro eu uk usa us america asia
    india germany deutschland france espana spain italia italy china hk japan africa arabia
    uae dubai latam mexico brasil brazil canada australia nz pakistan nigeria kenya turkey
    russia poland nederland benelux nordic
    malaysia indonesia philippines thailand vietnam singapore bangladesh srilanka nepal
    taiwan korea hongkong macau mongolia kazakhstan uzbekistan saudi ksa qatar kuwait oman
    bahrain israel iran iraq jordan lebanon egypt morocco algeria tunisia ghana ethiopia
    tanzania uganda rwanda cameroon senegal zambia zimbabwe southafrica angola ukraine
    romania bulgaria greece portugal austria switzerland schweiz suisse belgium belgie
    netherlands holland sweden sverige norway norge denmark danmark finland suomi ireland
    england britain scotland czech slovakia hungary croatia serbia slovenia latvia
    lithuania estonia belarus chile peru colombia argentina venezuela ecuador bolivia
    uruguay paraguay newzealand""".split()
)

# Regions only the brand itself covers: a reseller is local, so 'Redmi Global Store' presents as
# the brand's own worldwide store where 'Samsung Store US' reads as a shop in the US.
WORLD_SCOPE_WORDS = frozenset("global international worldwide intl".split())

# What joins the items of a list of brands ('Xiaomi, Samsung & Apple', 'Apple und Samsung').
LIST_JOINERS = frozenset(", & + / and und et e y i og och en".split())

# Harmless glue that may sit beside a brand term without adding a signal of its own.
FILLER_WORDS = frozenset(
    """my the your our get go best top new hot all one now today and for com net org co www
    quick fast easy
    web site app apps info plus pro max ultra mini lite note edge flip fold series premium""".split()
)

# Words saying a site or seller is about the brand, not the brand: suspicious, never official.
COMMUNITY_WORDS = frozenset(
    """fan fans lovers community forum forums blog news tips tricks guide guides review reviews
    rumors rumours insider insiders daily magazine mag times wiki hacks""".split()
)

# ISO 3166-1 alpha-2 codes: a country suffix is a common combosquat ("xiaomi-de").
COUNTRY_CODES = frozenset(
    """ad ae af ag ai al am ao aq ar as at au aw ax az ba bb bd be bf bg bh bi bj bl bm bn bo
    bq br bs bt bv bw by bz ca cc cd cf cg ch ci ck cl cm cn co cr cu cv cw cx cy cz de dj dk
    dm do dz ec ee eg eh er es et fi fj fk fm fo fr ga gb gd ge gf gg gh gi gl gm gn gp gq gr
    gs gt gu gw gy hk hm hn hr ht hu id ie il im in io iq ir is it je jm jo jp ke kg kh ki km
    kn kp kr kw ky kz la lb lc li lk lr ls lt lu lv ly ma mc md me mf mg mh mk ml mm mn mo mp
    mq mr ms mt mu mv mw mx my mz na nc ne nf ng ni nl no np nr nu nz om pa pe pf pg ph pk pl
    pm pn pr ps pt pw py qa re ro rs ru rw sa sb sc sd se sg sh si sj sk sl sm sn so sr ss st
    sv sx sy sz tc td tf tg th tj tk tl tm tn to tr tt tv tw tz ua ug um us uy uz va vc ve vg
    vi vn vu wf ws ye yt za zm zw uk eu""".split()
)

# Word endings (a past tense after 'e', the pinyin nasal codas -n and -ng): glued after a brand term, and
# nothing else, they make it another word's stem ('siphoned', 'xiaoming'); 'ng' then counts as
# Nigeria only with a separator ('xiaomi-ng').
STEM_TAILS = frozenset("d n ng".split())

# Suffixes that are generic top-level domains a brand rarely owns but squatters love.
RETAIL_SUFFIXES = frozenset(
    """shop store online deals sale market mall buy boutique discount promo tech digital
    support services service help center xyz top site website store club app live world
    bargains cheap gift""".split()
)

# Retail words too generic to make a weak term ('galaxy', 'mi') the brand: 'Galaxy Digital',
# 'galaxyland.com' are other businesses; 'Galaxy Case World', 'mi-store' are not.
GENERIC_RETAIL_WORDS = frozenset(
    """digital tech technology world zone hub home house land city club center centre plaza
    planet express direct online free point depot trade trading import imports export
    agency gallery expo experience""".split()
)

# What a repairer works on: beside a repair word these name the device, not a shop of the brand.
PRODUCT_WORDS = frozenset(
    """phone phones mobile mobiles smartphone smartphones tablet tablets laptop laptops watch
    screen screens glass battery pro doctor clinic lab""".split()
)

# Real words one edit away from a brand term: never treated as typos of it.
COMMON_WORDS = frozenset(
    """ample apply apples apps maple remi redo ready reddi redme phone phones cloud clouds
    iphones samsun poca loco coco pico polo""".split()
)

# Subdomain labels that say nothing about who runs a host.
NEUTRAL_SUBDOMAINS = frozenset("www www1 www2 m mobile shop store en de fr es it uk us".split())

# --- characters -------------------------------------------------------------------------------

# Leetspeak digits and symbols read as letters; '1' and '|' are also read as 'l' (second view).
LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "$": "s", "@": "a", "!": "i"}
LEET_L = {**LEET, "1": "l", "|": "l", "!": "l"}

# ASCII sequences that render alike in most fonts (the "rn" → "m" trick), both directions.
ASCII_LOOKALIKES = (
    ("m", "rn"),
    ("rn", "m"),
    ("w", "vv"),
    ("vv", "w"),
    ("d", "cl"),
    ("cl", "d"),
    ("l", "i"),
    ("i", "l"),
    ("l", "1"),
    ("i", "1"),
    ("o", "0"),
    ("u", "v"),
    ("v", "u"),
    ("g", "q"),
    ("q", "g"),
    ("n", "h"),
)

VOWELS = "aeiouy"

# Letter rows of the QWERTY, QWERTZ and AZERTY layouts: neighbours are computed from these.
KEYBOARD_ROWS = (
    ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm"),
    ("1234567890", "qwertzuiop", "asdfghjkl", "yxcvbnm"),
    ("1234567890", "azertyuiop", "qsdfghjklm", "wxcvbn"),
)

# QWERTY neighbours (QWERTZ's y/z swap added): typing slips land on these.
KEYBOARD_NEIGHBOURS = {
    "1": "2q",
    "2": "13qw",
    "3": "24we",
    "4": "35er",
    "5": "46rt",
    "6": "57ty",
    "7": "68yu",
    "8": "79ui",
    "9": "80io",
    "0": "9op",
    "q": "12wa",
    "w": "23qeas",
    "e": "34wrsd",
    "r": "45etdf",
    "t": "56ryfg",
    "y": "67tugh" + "z",
    "u": "78yihj",
    "i": "89uojk",
    "o": "90ipkl",
    "p": "0ol",
    "a": "qwsz" + "y",
    "s": "weadzx",
    "d": "erfcxs",
    "f": "rtgvcd",
    "g": "tyhbvf",
    "h": "yujnbg",
    "j": "uikmnh",
    "k": "iolmj",
    "l": "opk",
    "z": "asx" + "yt",
    "x": "zsdc",
    "c": "xdfv",
    "v": "cfgb",
    "b": "vghn",
    "n": "bhjm",
    "m": "njk",
}

# --- listings ----------------------------------------------------------------------------------

# Condition phrases, most specific first: "renewed" and "like new" must not read as "new".
CONDITION_PHRASES = (
    ("refurbished", "refurbished"),
    ("refurb", "refurbished"),
    ("renewed", "refurbished"),
    ("reconditioned", "refurbished"),
    ("remanufactured", "refurbished"),
    ("generaluberholt", "refurbished"),
    ("generalueberholt", "refurbished"),
    ("reacondicionado", "refurbished"),
    ("reconditionne", "refurbished"),
    ("ricondizionato", "refurbished"),
    ("like new", "used"),
    ("open box", "used"),
    ("pre owned", "used"),
    ("preowned", "used"),
    ("second hand", "used"),
    ("secondhand", "used"),
    ("second", "used"),  # 'HP second mulus' (id/ms marketplaces): second-hand
    ("seken", "used"),
    ("bekas", "used"),
    ("used", "used"),
    ("gebraucht", "used"),
    ("usado", "used"),
    ("occasion", "used"),
    ("usato", "used"),
    ("brand new", "new"),
    ("sealed", "new"),
    ("new", "new"),
    ("neu", "new"),
    ("nuevo", "new"),
    ("neuf", "new"),
    ("nuovo", "new"),
)

# Phrases saying the goods differ from the ones sold in this market (gray import).
GRAY_IMPORT_PHRASES = (
    "global version",
    "global rom",
    "international version",
    "intl version",
    "int'l version",
    "cn version",
    "china version",
    "chinese version",
    "hk version",
    "asia version",
    "asian version",
    "us version",
    "no warranty",
    "without warranty",
    "no eu warranty",
    "no manufacturer warranty",
    "keine eu-garantie",
    "keine garantie",
    "ohne garantie",
    "sin garantía",
    "sin garantia",
    "sans garantie",
    "parallel import",
    "grey import",
    "gray import",
    "imported",
    "import",
    "eu plug adapter",
    "with eu adapter",
    "not for eu",
)

# Mail providers anyone can have an address at: a shared provider ties no sellers (a shared
# address does).
FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com",
        "yahoo.com", "yahoo.co.uk", "ymail.com", "icloud.com", "me.com", "mac.com", "aol.com",
        "proton.me", "protonmail.com", "gmx.de", "gmx.net", "gmx.com", "web.de", "mail.ru",
        "yandex.ru", "qq.com", "163.com", "126.com", "sina.com", "naver.com", "zoho.com",
        "orange.fr", "free.fr", "libero.it", "t-online.de",
    }
)  # fmt: skip
# Words of image file names that are a site's placeholder, not a seller's own photo.
PLACEHOLDER_IMAGE_WORDS = ("placeholder", "no-image", "noimage", "no_image", "default", "blank")
