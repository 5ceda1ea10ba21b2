"""The source kinds: what each follows beyond the generic link-following base."""

from __future__ import annotations

import json
from dataclasses import replace
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response

from crawler.pages import extract_listing, extract_shopify_products, shopify_shop
from crawler.spiders.base import SourceSpider, _headers, _origin
from grayhound.models import Listing, Seller

SHOPIFY_PAGE_LIMIT = 250  # Shopify's maximum page size for /products.json


class MarketplaceSpider(SourceSpider):
    """Search pages → listings → seller profiles; every listing names its own seller."""

    kind = "marketplace"


class StorefrontSpider(SourceSpider):
    """A shop's own site: links from the start pages plus its sitemaps; the shop is the seller."""

    kind = "storefront"
    use_sitemaps = True
    site_is_seller = True


class ShopifySpider(SourceSpider):
    """A Shopify store: /meta.json for the shop, then /products.json page by page."""

    kind = "shopify"
    follow_links = False
    site_is_seller = True

    async def start(self):
        for origin in dict.fromkeys(_origin(u) for u in self.source.start_urls):
            yield scrapy.Request(
                origin + "/meta.json",
                callback=self.parse_meta,
                errback=self.failed,
                cb_kwargs={"origin": origin},
                dont_filter=True,  # a continued crawl (JOBDIR) needs the shop's name again
            )
        async for request in super().start():
            yield request

    shop_currency: str | None = None  # /meta.json's: the currency of every price in the feed

    def parse_meta(self, response: Response, origin: str):
        """The shop's own facts reach every product: its name, public domain and currency."""
        self.figures["pages_fetched"] += 1
        shop = shopify_shop(response.url, response.body) or {}
        self.shop_currency = shop.get("currency")
        identifiers = [
            (kind, shop[key], f"/meta.json {key}")
            for kind, key in (
                ("name", "name"),
                ("shop_domain", "domain"),
                ("myshopify", "myshopify_domain"),
            )
            if shop.get(key)
        ]
        if identifiers:
            self.store_seller = Seller(
                name=shop.get("name"),
                url=origin,
                domain=shop.get("domain") or shop.get("myshopify_domain"),
                identifiers=tuple(identifiers),
            )
        yield self.products_request(origin, 1)

    def products_request(self, origin: str, page: int) -> scrapy.Request:
        return scrapy.Request(
            f"{origin}/products.json?limit={SHOPIFY_PAGE_LIMIT}&page={page}",
            callback=self.parse_products,
            errback=self.failed,
            cb_kwargs={"origin": origin, "page": page},
        )

    def parse_products(self, response: Response, origin: str, page: int):
        self.figures["pages_fetched"] += 1
        listings = extract_shopify_products(
            response.url,
            response.body,
            default_currency=self.shop_currency or self.source.currency,
        )
        if not listings:
            if not _is_products_page(response.body):
                reason = "not a Shopify products page"
                yield self.failure_item(response.url, response.status, reason, response)
            return
        for listing in listings:
            if self.shop_currency and listing.field_sources.get("currency") == "default":
                sources = {**listing.field_sources, "currency": "shopify-meta"}
                why = f"the shop's /meta.json currency {listing.currency}"
                listing = replace(listing, field_sources=sources, currency_source=why)
            if _lacking(listing):
                yield self.product_page_request(listing)
            else:
                yield from self.listing_items(response, listing)
        yield self.products_request(origin, page + 1)

    def product_page_request(self, listing: Listing) -> scrapy.Request:
        """The product's own HTML page, for what the feed lacks (condition, currency)."""
        return scrapy.Request(
            listing.url,
            callback=self.parse_product_page,
            errback=self.product_page_failed,
            cb_kwargs={"listing": listing},
        )

    def parse_product_page(self, response: Response, listing: Listing):
        self.figures["pages_fetched"] += 1
        page = extract_listing(
            response.url,
            response.body,
            _headers(response),
            default_currency=self.shop_currency or self.source.currency,
        )
        yield from self.listing_items(response, _completed(listing, page))

    def product_page_failed(self, failure):
        """The page could not be read: the feed's listing is stored as it was."""
        listing = failure.request.cb_kwargs["listing"]
        yield from self.failed(failure)
        yield from self.listing_items(None, listing)

    def with_identity(self, response, listing):
        from dataclasses import replace

        from crawler.spiders.base import canonical

        # /products.json lists many products: each one's identity is its own product URL.
        return replace(listing, canonical_url=canonical(listing.canonical_url or listing.url))


def _lacking(listing: Listing) -> bool:
    return listing.condition == "unknown" or not listing.currency


def _completed(listing: Listing, page: Listing) -> Listing:
    """The feed's listing with the fields it lacked taken from the product's page."""
    values, sources = {}, dict(listing.field_sources)
    if listing.condition == "unknown" and page.condition != "unknown":
        values["condition"], values["condition_raw"] = page.condition, page.condition_raw
        sources["condition"] = f"product page {page.field_sources.get('condition', 'text')}"
    if not listing.currency and page.currency:
        values["currency"], values["currency_source"] = page.currency, page.currency_source
        sources["currency"] = f"product page {page.field_sources.get('currency', 'text')}"
    if not values:
        return listing
    missing = tuple(f for f in listing.missing if f not in values)
    problems = listing.problems
    if "currency" in values:  # "currency not in Shopify feed" is answered
        problems = tuple(p for p in problems if "currency" not in p)
    return replace(listing, **values, field_sources=sources, missing=missing, problems=problems)


def _is_products_page(body: bytes) -> bool:
    try:
        return isinstance(json.loads(body).get("products"), list)
    except (ValueError, AttributeError):
        return False


class PagesSpider(SourceSpider):
    """A list of product pages to watch (a distributor's competitor URLs): each listed URL is
    fetched as given (redirects inside allowed_hosts followed), no link and no seller page is
    followed, and a URL that yields no listing is a failure saying why: not a product page, no
    price found, blocked by robots.txt, an HTTP error, a redirect off the allowed hosts."""

    kind = "pages"
    follow_links = False
    follow_sellers = False
    report_empty_pages = True

    def listing_items(self, response: Response, listing: Listing):
        """A page that names no seller is the shop's own offer: its host is the seller (the
        site's name when the page gives one), so pricing tells one shop from another."""
        named_on_page = listing.seller and listing.field_sources.get("seller") != "site"
        if named_on_page or listing.seller_url:
            yield from super().listing_items(response, listing)
            return
        host = (urlsplit(response.url).hostname or "").removeprefix("www.")
        name = listing.seller or host
        listing = replace(
            listing,
            seller=name,
            seller_domain=listing.seller_domain or host,
            field_sources={**listing.field_sources, "seller": "site"},
        )
        seller = Seller(name=name, url=_origin(response.url), domain=host)
        yield self.listing_item(listing, "site:" + host, seller, response)


SPIDERS = {
    cls.kind: cls for cls in (MarketplaceSpider, StorefrontSpider, ShopifySpider, PagesSpider)
}


def spider_for(kind: str) -> type[SourceSpider]:
    return SPIDERS[kind]
