"""Spiders per source kind (marketplace, storefront, shopify, pages): they decide only what to fetch
next and hand every response to `crawler.pages`.

May import: `crawler.pages`, the spine's leaves, config and store timestamps."""

from crawler.spiders.kinds import SPIDERS, spider_for

__all__ = ["SPIDERS", "spider_for"]
