"""Tables the extraction layer reads: currency markers and the class/label vocabulary the
visible-text heuristics use to tell a product's price from every other number."""

from __future__ import annotations

import re

# Symbols shared by several currencies: an explicit prefix ("US $", "C$") names one; alone they
# are settled by the page's evidence (money.resolve_currency) or reported as ambiguous.
AMBIGUOUS_SYMBOLS = {
    "$": ("USD", "CAD", "AUD", "NZD", "MXN", "SGD", "HKD", "TWD", "ARS", "CLP", "COP"),
    "¥": ("JPY", "CNY"),
    "kr": ("SEK", "NOK", "DKK", "ISK"),
    "Fr": ("CHF",),
    "Rs": ("INR", "PKR", "LKR", "NPR"),
}

# Markers that name one currency. Order matters: longer, more specific spellings first so
# "US $" wins over "$" and "R$" over "$".
UNAMBIGUOUS_MARKERS = (
    ("US $", "USD"),
    ("US$", "USD"),
    ("USD $", "USD"),
    ("CA $", "CAD"),
    ("CA$", "CAD"),
    ("CAN$", "CAD"),
    ("C$", "CAD"),
    ("AU $", "AUD"),
    ("AU$", "AUD"),
    ("A$", "AUD"),
    ("NZ$", "NZD"),
    ("HK$", "HKD"),
    ("S$", "SGD"),
    ("MX$", "MXN"),
    ("NT$", "TWD"),
    ("R$", "BRL"),
    ("CN¥", "CNY"),
    ("CN ¥", "CNY"),
    ("JP¥", "JPY"),
    ("JP ¥", "JPY"),
    ("RMB", "CNY"),
    ("Rp", "IDR"),
    ("元", "CNY"),
    ("円", "JPY"),
    ("원", "KRW"),
    ("€", "EUR"),
    ("£", "GBP"),
    ("₹", "INR"),
    ("zł", "PLN"),
    ("₩", "KRW"),
    ("₽", "RUB"),
    ("руб", "RUB"),
    ("₺", "TRY"),
    ("₪", "ILS"),
    ("₫", "VND"),
    ("₱", "PHP"),
    ("฿", "THB"),
    ("Kč", "CZK"),
    ("₴", "UAH"),
    ("лв", "BGN"),
)

# ISO 4217 codes recognised when written out as a word ("EUR 899", "899 CHF").
ISO_CODES = frozenset(
    """AED ARS AUD BGN BRL CAD CHF CLP CNY COP CZK DKK EGP EUR GBP HKD HUF IDR ILS INR ISK JPY
    KRW MXN MYR NOK NZD PEN PHP PKR PLN RON RUB SAR SEK SGD THB TRY TWD UAH USD VND ZAR""".split()
)

# --- visible-text price heuristics -------------------------------------------------------

# class/id/itemprop tokens that mark an element as a price.
PRICE_TOKENS = frozenset(
    {"price", "prices", "pricing", "amount", "cost", "preis", "prix", "precio"}
)
# tokens that mark the current (selling) price among several.
CURRENT_TOKENS = frozenset(
    {
        "sale",
        "current",
        "final",
        "now",
        "special",
        "offer",
        "our",
        "primary",
        "actual",
        "selling",
        "main",
        "buybox",
        "deal",
        "today",
        "apex",
        "priceblock",
        "ourprice",
        "dealprice",
    }
)
# tokens that mark an earlier or reference price shown for comparison ("was", "UVP", "list").
OLD_PRICE_TOKENS = frozenset(
    {
        "was",
        "old",
        "strike",
        "strikethrough",
        "striked",
        "crossed",
        "compare",
        "compareat",
        "msrp",
        "rrp",
        "uvp",
        "original",
        "origin",
        "originprice",
        "before",
        "previous",
        "prev",
        "retail",
        "oldprice",
        "wasprice",
        "listprice",
        "reference",
        "typical",
        "basis",
    }
)
# tokens that mark a price that is not what the buyer pays now.
# Not "unitprice": shops name the item's own price so (Yodobashi's "unitPrice", Fnac's
# "unitprice_ati"); a price per kilo or per 100 g is told by its text ("/ kg").
STRUCK_TOKENS = OLD_PRICE_TOKENS | frozenset(
    {
        "perunit",
        "installment",
        "installments",
        "instalment",
        "monthly",
        "shipping",
        "delivery",
        "savings",
        "save",
        "saving",
        "coupon",
        "fee",
        "deposit",
        "emi",
    }
)
STRUCK_TAGS = frozenset({"del", "s", "strike"})
# Block words that name a region of the page layout. Inside the product's own box (the block
# holding its title and buy button) they name a part of that box ("ui-pdp-seller__header",
# the seller box's heading), not the site's header or menu.
LAYOUT_TOKENS = frozenset(
    {
        "header",
        "topbar",
        "footer",
        "nav",
        "navbar",
        "navigation",
        "menu",
        "megamenu",
        "sidebar",
        "masthead",
    }
)
# Containers whose prices belong to other products or to site chrome.
BLOCK_TOKENS = (
    frozenset(
        {
            "related",
            "recommend",
            "recommended",
            "recommendation",
            "recommendations",
            "carousel",
            "similar",
            "also",
            "upsell",
            "crosssell",
            "cross",
            "sims",
            "breadcrumb",
            "breadcrumbs",
            "minicart",
            "drawer",
            "sponsored",
            "ads",
            "advert",
            "bundle",
            "accessories",
            "viewed",
            "history",
            "slider",
            "swiper",
            "comparison",
        }
    )
    | LAYOUT_TOKENS
)
BLOCK_TAGS = frozenset({"nav", "footer", "aside", "header"})
BLOCK_HEADINGS = re.compile(
    r"also (bought|viewed|like|purchased)|you may (also )?like|related (products|items)|"
    r"similar (items|products)|frequently bought|recommended|sponsored|more from|"
    r"recently viewed|people also|customers who|compare with similar|ähnliche|"
    r"das könnte|kunden kauften|productos relacionados|accessories|might (also )?like|"
    r"vielleicht auch|passend dazu|vous aimerez|produits similaires|"
    r"te puede interesar|productos (similares|recomendados)|quem viu|você também|"
    r"produtos (relacionados|similares)|podobne|polecane|похожие|рекомендуем|おすすめ|関連商品|"
    r"lainnya|produk serupa|rekomendasi|ที่คุณอาจสนใจ|สินค้าแนะนำ",
    re.I,
)
# Words right before a price that name it the price to pay ("Your Price $1,499.99").
CURRENT_LABEL = re.compile(
    r"(?<![\w])(your price|sale price|special price|final price|deal price|our price|"
    r"price to pay|offer price|now|jetzt|nur|aktionspreis|angebotspreis|prix promo|"
    r"prix final|precio final|precio oferta|ahora|prezzo scontato|cena promocyjna)\s*:?\s*$",
    re.I,
)
# A regular price is shown beside a sale price; on pages without a sale it is the only one.
REGULAR_TOKENS = frozenset({"regular", "regularprice"})
REGULAR_LABEL = re.compile(r"(?<![\w])(regular price|normal price|normalpreis)\s*:?\s*$", re.I)
# Words right before a price that say it is not the current price.
NOT_CURRENT_BEFORE = re.compile(
    r"(?<![\w])(was|war|list price|list|typical price|msrp|rrp|uvp|statt|anstatt|vorher|original(ly)?|"
    r"regular price was|de|antes|avant|prima|era|invece di|zamiast|"
    r"reg\.?|before|compare at|compare|save|you save|saving|sparen|ahorra|économisez|"
    r"shipping|shipping costs?|delivery|postage|versand|versandkosten|porto|livraison|envío|"
    r"frete|spedizione|plus|zzgl\.?|\+|(?<![\d,.])[-\u2212]|less|minus|payments? of|"
    r"installments? of|or|per|from\s+\S+\s*/\s*mo|deposit|trade[- ]in|"
    # a price before tax, a quantity tier ("Ex Tax: $1,090.00", "2 or more $1,169.00")
    r"ex\.? (tax|vat|gst)|excl\.?(uding)? (tax|vat|gst|mwst\.?)|exkl\.? mwst\.?|netto|"
    r"hors taxes?|or more|and (more|up|above))\s*:?\s*$",
    re.I,
)
# Words right after a price that make it an instalment, unit price, fee or saving.
NOT_CURRENT_AFTER = re.compile(
    r"^\s*(/\s*(mo|month|monat|mes|mois|wk|week)|per (month|week|unit)|a month|monthly|mo\.|"
    r"x\s*\d+|for \d+ months|/\s*\d*\s*(kg|g|ml|l|lb|oz|m|stk|stück|unit|ea|count)\b|"
    r"per (kg|g|ml|l|lb|oz)|\(\s*\S+\s*/\s*(count|unit|kg|oz|ml)|off\b|shipping|delivery|"
    r"postage|versand|trade[- ]in|savings|\+ ?(vat|tax|gst)|plus (vat|tax|gst)|"
    # before tax, unless it is the label of the next price ("$1,199.00 Ex Tax: $1,090.00")
    r"(ex\.? (tax|vat|gst)|excl(\.|uding)? (tax|vat|gst)|hors taxes?|ht\b|netto)(?!\s*:))",
    re.I,
)
# Matched at the start of a button's label: "do not buy" or "Why buy from us" are not buttons.
BUY_BUTTON = re.compile(
    r"^\W*(add to (cart|bag|basket|trolley)|buy (it )?now|buy\b|in den warenkorb|jetzt kaufen|kaufen|"
    r"ajouter au panier|añadir al (carrito|cesta)|aggiungi al carrello|comprar|"
    r"in (de )?winkelwagen|dodaj do koszyka|kup teraz|adicionar ao carrinho|купить|в корзину|"
    r"\+\s*keranjang|beli (sekarang|langsung)|ซื้อเลย|หยิบใส่รถเข็น|購入手続きへ|"
    r"カートに入れる|買い物かごに入れる|加入购物车|立即购买|장바구니 담기|바로구매|do koszyka|"
    r"place bid|add to order)",
    re.I,
)

# A product shown without a price: still an offer, recorded with a null price.
PRICE_ON_REQUEST = re.compile(
    r"price on request|price upon request|contact (us|the seller) for (a )?(price|quote)|"
    r"call for price|request a quote|preis auf anfrage|prix sur demande|precio a consultar|"
    r"prezzo su richiesta|cena na zapytanie",
    re.I,
)
