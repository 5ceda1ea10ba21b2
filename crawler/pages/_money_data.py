"""Tables for settling a printed price's currency from evidence (money.resolve_currency).

Which currencies a country uses, which languages a country speaks and how many minor units a
currency has come from CLDR through `babel`; what is here is what CLDR does not say: the
printed signs shops use that CLDR spells differently, and which country domains are sold to
everyone and so say nothing about where a shop is."""

from __future__ import annotations

# Printed signs that name one currency, beside crawler.pages._data.UNAMBIGUOUS_MARKERS
# (longest first where one contains another). CLDR writes some differently ("Ksh", "₺").
EXTRA_MARKERS = (
    ("RM", "MYR"),  # Malaysia: "RM 2,391.00", "RM1,199"
    ("KSh", "KES"),
    ("Ksh", "KES"),
    ("TSh", "TZS"),
    ("USh", "UGX"),
    ("TL", "TRY"),  # Turkish shops print "16.999,00 TL" as often as "₺"
    ("Ft", "HUF"),
    ("₦", "NGN"),
    ("৳", "BDT"),
    ("₸", "KZT"),
    ("₾", "GEL"),
    ("₼", "AZN"),
    ("S/", "PEN"),
    ("GH₵", "GHS"),
)

# Country-code domains sold to anyone ("startup.io", "brand.co", "shop.me"): the country says
# nothing about the shop unless under the country's own second level ("falabella.com.co").
VANITY_TLDS = frozenset(
    "co io ai me tv ly fm gg to cc ws la so sh ac im ag vc gl st nu tk ml".split()
)
# Second-level labels a country registry uses for companies: "com.au", "co.jp", "net.my".
REGISTRY_SECOND_LEVELS = frozenset("com co net org ne or ac biz gob gov edu".split())
# Country-code domains that are not the ISO 3166 code of their country.
TLD_TERRITORY = {"uk": "GB", "eu": "EU"}
# "en-US" is the default of countless templates, whatever the shop's country: its region is
# used only when no other evidence settles a shared sign.
TEMPLATE_REGIONS = frozenset({"US"})
# CLDR's official statuses that make a language evidence for a country's currency.
OFFICIAL_STATUSES = frozenset({"official", "de_facto_official"})
