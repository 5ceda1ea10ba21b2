"""Spiders per source kind: marketplace, storefront, shopify."""

from crawler.spiders.kinds import SPIDERS, spider_for

__all__ = ["SPIDERS", "spider_for"]
