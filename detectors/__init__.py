"""Detectors: pure functions judging names, domains, sellers and listings against a BrandBook
built once from the config. No Scrapy, no database, no network.

May import: `grayhound.config` and `grayhound.models` only. Each module owns one judgement
(`names`, `domains` and `subdomains`, `catalog`, `prices`, `listings`, `sellers`, `seller_verdicts`,
`networks`, `risk`) or one
mechanism they share (`visible` what a person sees, `phrases` literal phrases found case-blind, `normalize`, `lookalikes`, `terms` and
`fuzzy`, `scripts` local names in other scripts, `typos`, `words` word frequency, `allowlist`,
`book`); tables live in `_data.py` and `_world_data.py` (the words of other languages)."""

from detectors.book import BrandBook
from detectors.listings import ListingAssessment, ListingFacts, assess_listings
from detectors.score import score_input
from detectors.seller_verdicts import seller_sales, seller_verdict
from detectors.sellers import SellerFacts, assess_sellers, entitled

__all__ = [
    "BrandBook",
    "ListingAssessment",
    "ListingFacts",
    "SellerFacts",
    "assess_listings",
    "assess_sellers",
    "entitled",
    "score_input",
    "seller_sales",
    "seller_verdict",
]
