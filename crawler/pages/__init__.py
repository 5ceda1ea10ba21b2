"""Page objects: what was fetched (url, body, headers) → `Listing` / `Seller`, with no network,
no Scrapy and no database. Layers: JSON-LD → microdata → OpenGraph → selectors → script state →
visible text, each field recording the layer that produced it.

May import: `grayhound.models` only (and parsel, lxml, extruct, w3lib, price-parser)."""

from crawler.pages.listing import extract_listing
from crawler.pages.offers import offer_listings
from crawler.pages.recognition import product_url
from crawler.pages.seller import extract_seller
from crawler.pages.shopify import extract_shopify_products, shopify_shop

__all__ = [
    "extract_listing",
    "extract_seller",
    "extract_shopify_products",
    "offer_listings",
    "product_url",
    "shopify_shop",
]
