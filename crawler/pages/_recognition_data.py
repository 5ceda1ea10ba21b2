"""Tables the product recognizer reads: the URL shapes of product and list pages across the
common shop platforms, the schema.org types of articles, and the forms that put an item in a
cart."""

from __future__ import annotations

import re

# A product page's path: /dp/ASIN (Amazon), /ip/ (Walmart), /p/ (Target, Otto, Bol, Shoper),
# /pd/ (eMAG), /itm/ (eBay), /item/ (AliExpress), /listing/ (Etsy), /products/<handle>
# (Shopify), /vp/products/ (Coupang), /oferta/ (Allegro), "-i.123.456" (Shopee),
# "-p-123", "MLM-123" (Mercado Libre), a long numeric id before ".html" or at the end.
PRODUCT_PATH = re.compile(
    r"/(?:dp|gp/product|p|pd|pdp|ip|product|products|produkt|produkte|produit|produits|"
    r"producto|productos|prodotto|prodotti|produto|produtos|item|items|itm|artikel|sku|goods|"
    r"listing|listings|oferta|offer|vp/products|detail|details)/[^/?#]+"
    r"|-i\.\d+\.\d+|[-_/]p-?\d{4,}|/[A-Z]{3}-?\d{6,}|[-_/.]\d{5,}(?:\.html?)?/?$"
    r"|/item\.html?|[?&](?:sku|skuid|productid|product_id|pid|itemid|item_id)=",
    re.I,
)
# A list or editorial page's path: categories, search, brands, tags, blogs and reviews.
LIST_PATH = re.compile(
    r"/(?:c|cat|category|categories|kategorie|kategori|categorie|categoria|catalog|catalogue|"
    r"browse|search|suche|recherche|buscar|busca|szukaj|arama|sr|s|brand|brands|marke|marque|"
    r"tag|tags|collections/[^/]+/?$|blog|blogs|news|article|articles|magazine|ratgeber|test|"
    r"tests|review|reviews|compare|comparison|vergleich|comparatif)(?:/|$|\?)"
    r"|[?&](?:q|query|s|search|keyword|keywords|k|text)=",
    re.I,
)
# schema.org types of editorial pages: a price there is quoted, not offered.
ARTICLE_TYPES = frozenset(
    {
        "article",
        "newsarticle",
        "blogposting",
        "review",
        "techarticle",
        "report",
        "reviewnewsarticle",
        "opinionnewsarticle",
        "analysisnewsarticle",
        "liveblogposting",
    }
)
ARTICLE_OG_TYPES = frozenset({"article", "blog", "og:article"})
# A title that sets products side by side: "iPhone 15 vs Galaxy S24", "A versus B".
COMPARISON_TITLE = re.compile(r"\S\s+(?:vs\.?|versus|contre|gegen|против)\s+\S", re.I)
# A form that puts the item in a cart, by where it posts or what it sends.
CART_FORM_ACTION = re.compile(
    r"cart|basket|bag|panier|warenkorb|carrito|carrello|koszyk|kosik|kosar|sepet|korzin|"
    r"winkelwagen|varukorg|handlekurv|kurv|checkout|/cos\b|add[-_]?to",
    re.I,
)
CART_FORM_FIELDS = frozenset(
    {"add-to-cart", "add_to_cart", "addtocart", "product_id", "productid", "product-id", "sku"}
)
