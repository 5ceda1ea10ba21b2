"""Tables the seller readers use: the labels that introduce a seller's name, the links and URLs
that lead to a seller's page, and what a seller's profile shows."""

from __future__ import annotations

import re

# Labels that introduce the seller's name: strong ones at the start of a text, after another
# sentence of it ("In stock. Sold by X."), or as a whole cell beside the value cell; weak ones
# ("Seller", "Store") only with a colon or as a whole label cell.
SELLER_LABEL_STRONG = (
    r"vendu et expédié par|expédié et vendu par|reconditionné et vendu par|"
    r"vendido y enviado por|verkauft und versendet von|"
    r"ships from and sold by|sold (?:and|&) (?:shipped|delivered|dispatched) by|"
    r"(?:shipped|dispatched|delivered) (?:and|&) sold by|sold by|verkauf und versand durch|"
    r"verkauft von|verkauft durch|vendu par|vendido e entregue por|vendido e enviado por|"
    r"vendido por|venduto e spedito da|venduto da|sprzedawane przez|verkocht en verzonden door|"
    r"verkocht door|verkoop door|dijual oleh|販売元|ขายโดย|"
    r"vândut și livrat de|vândut de|vandut si livrat de|vandut de"
)
SELLER_LABEL_WEAK = (
    r"seller|sold through|verkäufer|anbieter|händler|vendeur|vendedor|venditore|sprzedawca|"
    r"продавец|penjual|出品者|販売者|merchant|retailer|seller information|about this seller|"
    r"satıcı|satici|prodejce|eladó|판매자|판매처"
)
# Weak labels that also name a place or a menu entry ("Store: Union Square", a "Shop" tab):
# read only with a colon in the same text, never from the cell beside them.
SELLER_LABEL_PLACE = r"store|shop"
# Weak labels that, alone in a cell, name the selling party: the next cell is its name
# ("<dt>Verkäufer</dt><dd>X</dd>"). Not headings such as "About this seller", whose next
# block is prose.
SELLER_CELL_LABEL = (
    r"seller|sold through|verkäufer|anbieter|händler|vendeur|vendedor|venditore|sprzedawca|"
    r"продавец|penjual|出品者|販売者|merchant|retailer|satıcı|satici|prodejce|eladó|판매자|판매처"
)
# Class words of reviews, questions and answers: a shopper's "sold by X" there is not the page's
# seller.
USER_TEXT_TOKENS = frozenset(
    {
        "review",
        "reviews",
        "comment",
        "comments",
        "question",
        "questions",
        "answer",
        "answers",
        "testimonial",
        "testimonials",
        "ugc",
    }
)
# Link texts that are not a seller's name ("Visit store", "Contact seller").
GENERIC_LINK_TEXT = re.compile(
    r"^(visit|see|view|contact|more|all|follow|save|shop now|store$|shop$|seller$|other|ask|"
    r"message|report|details|sign|log|help|feedback|\d)",
    re.I,
)
# Chinese and Japanese marketplaces end a shop's name with 店 ("…京东自营旗舰店",
# "…楽天市場店"): a link so named leads to the shop even when its URL does not say "seller".
SHOP_NAME_END = "店"
# A seller's page by its URL; not the site's own pages under the same word ("/shop/cart",
# "/store/search").
SELLER_PATH = re.compile(
    r"/(seller|sellers|store|stores|shop|shops|user|usr|str|merchant|vendor|vendors|profile|"
    r"sp|s-store|storefront)(/(?!(cart|checkout|basket|bag|buy|category|categories|search|"
    r"login|account|help)\b)|\?|=|$)|[?&](seller|sellerid|seller_id|userid|user_id|me|merchant)=",
    re.I,
)
# Class words of a link to the seller's page whose URL does not say so ("/xiaomi", a user's
# hashed id): the shop's or the user's name as a link, a link to the seller's profile.
PROFILE_LINK_TOKENS = frozenset(
    {
        "sellername",
        "sellerlink",
        "sellerprofile",
        "shopname",
        "shoplink",
        "storename",
        "storelink",
        "vendorname",
        "merchantname",
        "userprofile",
    }
)
# Words that say the offer is a private person's (a classified ad): the site that shows it
# sells nothing, so it is never the seller. Read in the <title> and the product's own block.
PRIVATE_SELLER = re.compile(
    r"\b(?:by owner|private (?:seller|party|sale)|privater? (?:nutzer|anbieter|verkäufer)|"
    r"privatverkauf|particulier|osoba prywatna|prywatne|частное лицо|частник)\b",
    re.I,
)
WEBSITE_LABEL = re.compile(
    r"(?:website|web site|homepage|site|webseite|sitio web)\s*:?\s*"
    r"((?:https?://)?(?:www\.)?[a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)+)",
    re.I,
)

# Words a seller or store profile shows and a product page rarely does.
PROFILE_MARKERS = re.compile(
    r"positive feedback|feedback score|member since|mitglied seit|seller rating|store rating|"
    r"seller information|about (this|the) seller|items? for sale|followers|contact seller|"
    r"visit (the )?store|all items|seller since|verkäuferbewertung|top rated seller|"
    r"store front|storefront|shop reviews|joined in|sales\b",
    re.I,
)
# Hosts that are profiles elsewhere, not the seller's own website.
SOCIAL_HOSTS = (
    "facebook.com",
    "instagram.com",
    "twitter.com",
    "x.com",
    "youtube.com",
    "tiktok.com",
    "linkedin.com",
    "pinterest.com",
    "wa.me",
    "whatsapp.com",
    "t.me",
    "vk.com",
    "weibo.com",
    "google.com",
    "apple.com",
    "goo.gl",
    "bit.ly",
)
# Labels of a seller's contact details on its profile; the value follows, or sits in the next
# cell. Group 1 is the label as printed, quoted in the provenance.
PHONE_LABEL = re.compile(
    r"\b(phone|telephone|tel\.?|call us|hotline|mobile|whatsapp|telefon|téléphone|teléfono|"
    r"telefono)\s*(?:number|no\.?)?\s*:?\s*",
    re.I,
)
# Short labels ("VAT", "EIN", "ABN") are also words or parts of names: only with a colon.
COMPANY_ID_LABEL = re.compile(
    r"\b(company (?:registration )?(?:number|no\.?)|registration (?:number|no\.?)|"
    r"registered (?:number|no\.?)|vat (?:id|number|no\.?|reg(?:istration)?\.? ?no\.?)|"
    r"tax (?:id|number|no\.?)|business (?:registration|licen[cs]e) (?:number|no\.?)|"
    r"ust-?id(?:nr)?\.?|handelsregister(?:nummer)?|unified social credit code|"
    r"(?:social )?credit code|business licen[cs]e|trade register(?: number| no\.?)?|"
    r"company number|registration code)\s*:?\s*"
    r"|\b(reg\.? ?no\.?|crn|vat|tax id|hrb|siret|siren|ein|abn|uen|cif|nif)\s*:\s*",
    re.I,
)
# The registered company behind a seller ("Legal entity: Shenzhen … Co., Ltd.").
LEGAL_NAME_LABEL = re.compile(
    r"\b(legal entity|legal name|company name|registered name|operated by|firmenname|"
    r"raison sociale|razón social)\s*:\s*",
    re.I,
)
ADDRESS_LABEL = re.compile(
    r"\b((?:business |registered |company |postal )?address|adresse|anschrift|dirección|"
    r"indirizzo)\s*:\s*",
    re.I,
)
