"""What to fetch next, per source kind. Spiders never parse fields themselves: every response
goes to the page objects in `crawler.pages`, and the spider only decides which links to follow.

Items are plain dicts with a "type" (seller | listing | failure) handed to the store
pipeline; a listing carries its seller, so a listing page is one item. Each item names the WARC
record of the response it came from ("capture"). Every skipped or failed response is counted
and logged."""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response, TextResponse
from scrapy.linkextractors import LinkExtractor
from scrapy.spidermiddlewares.httperror import HttpError
from w3lib.url import canonicalize_url, url_query_cleaner

from crawler.pages import extract_listing, extract_seller, offer_listings
from crawler.spiders.identity import classify, listing_reference, profile_seller
from crawler.spiders.scope import HostStopped, LinkPatterns, OutsideAllowedHosts, host_allowed
from grayhound.config import Source
from grayhound.models import Listing, Seller
from grayhound.store.timestamps import utc_now

logger = logging.getLogger(__name__)

TRACKING_PARAMS = re.compile(r"^(utm_[a-z]+|fbclid|gclid|msclkid|mc_eid|_ga)$")
HTML_TYPES = (b"text/html", b"application/xhtml")


def canonical(url: str) -> str:
    """The identity of a URL: tracking parameters removed, query sorted, fragment dropped."""
    return canonicalize_url(strip_tracking(url))


def strip_tracking(url: str) -> str:
    parts = urlsplit(url)
    if not parts.query:
        return url
    keep = [p.split("=", 1)[0] for p in parts.query.split("&") if p]
    keep = [k for k in keep if not TRACKING_PARAMS.match(k)]
    return url_query_cleaner(url, keep, keep_fragments=False) if keep else url.split("?", 1)[0]


class SourceSpider(scrapy.Spider):
    """Crawl one configured source: its start URLs, then links within allowed_hosts."""

    kind = ""
    follow_links = True
    use_sitemaps = False
    site_is_seller = False  # storefronts: the site itself is the seller of every listing
    follow_sellers = True  # fetch the profile page of every seller a listing names
    report_empty_pages = False  # a page that yields no listing is a failure saying why

    def __init__(self, source: Source, **kwargs):
        super().__init__(name=source.name, **kwargs)
        self.source = source
        self.allowed_hosts = source.allowed_hosts
        self.link_extractor = LinkExtractor(canonicalize=False, unique=True)
        self.link_patterns = LinkPatterns(source.follow, source.deny)
        self.figures = dict(
            pages_fetched=0,
            listings=0,
            failures=0,
            with_title=0,
            with_price=0,
            with_currency=0,
            with_seller=0,
        )
        self.store_seller: Seller | None = None
        # Seller pages already asked for: every listing of a seller links to the same page,
        # and thousands of duplicates would each cost a trip through the scheduler's filter.
        self.seller_pages: set[str] = set()

    # -- scheduling -------------------------------------------------------------------------
    async def start(self):
        for url in self.source.start_urls:
            yield self.page_request(url, role="start", dont_filter=True)
        if self.use_sitemaps:
            for origin in dict.fromkeys(_origin(u) for u in self.source.start_urls):
                yield scrapy.Request(
                    origin + "/robots.txt", callback=self.parse_robots, errback=self.failed
                )

    def page_request(self, url: str, role: str = "page", **kwargs) -> scrapy.Request:
        """A page to extract; with `render = true` it goes to the browser (crawler.render)."""
        return scrapy.Request(
            strip_tracking(url),
            callback=self.parse_page,
            errback=self.failed,
            cb_kwargs={"role": role},
            meta={"render": True} if self.source.render else {},
            **kwargs,
        )

    def parse_robots(self, response: Response):
        sitemaps = [
            line.split(":", 1)[1].strip()
            for line in response.text.splitlines()
            if line.lower().startswith("sitemap:")
        ] or [_origin(response.url) + "/sitemap.xml"]
        for url in sitemaps:
            yield scrapy.Request(
                response.urljoin(url), callback=self.parse_sitemap, errback=self.failed
            )

    def parse_sitemap(self, response: Response):
        from scrapy.utils.sitemap import Sitemap

        self.figures["pages_fetched"] += 1
        try:
            sitemap = Sitemap(response.body)
        except Exception as exc:  # a broken sitemap is recorded, never fatal
            reason = f"unreadable sitemap: {exc}"
            yield self.failure_item(response.url, response.status, reason, response)
            return
        for entry in sitemap:
            loc = entry.get("loc")
            if not loc:
                continue
            if sitemap.type == "sitemapindex":
                yield scrapy.Request(loc, callback=self.parse_sitemap, errback=self.failed)
            else:
                yield self.page_request(loc)

    # -- responses --------------------------------------------------------------------------
    def parse_page(self, response: Response, role: str = "page"):
        self.figures["pages_fetched"] += 1
        if not _is_html(response):
            self.crawler.stats.inc_value("grayhound/skipped_not_html")
            logger.info("skipped %s: not HTML (%s)", response.url, _content_type(response))
            if self.report_empty_pages:
                reason = f"not an HTML page ({_content_type(response)})"
                yield self.failure_item(requested_url(response), response.status, reason, response)
            return
        headers = _headers(response)
        if role == "seller":
            yield self.profile_item(response, headers)
        else:
            listing = extract_listing(
                response.url,
                response.body,
                headers,
                default_currency=self.source.currency,
                selectors=self.source.selectors,
            )
            if listing.is_product:
                # one listing per seller's offer: a shop's own pages have only its own
                offers = [listing] if self.site_is_seller else offer_listings(listing)
                for offer in offers:
                    yield from self.listing_items(response, offer)
            elif self.report_empty_pages:
                reason = no_listing_reason(listing, rendered=self.source.render)
                yield self.failure_item(requested_url(response), response.status, reason, response)
            elif role == "start" and self.site_is_seller:
                found = extract_seller(response.url, response.body, headers, site_is_seller=True)
                self.store_seller = _with_shop_facts(self.store_seller, found)
        if self.follow_links and isinstance(response, TextResponse):
            yield from self.follow(response)

    def follow(self, response: TextResponse):
        for link in self.link_extractor.extract_links(response):
            if link.nofollow or not self.link_patterns.allows(link.url):
                continue
            yield self.page_request(link.url)

    def profile_item(self, response: Response, headers: dict) -> dict:
        """A seller's profile page: the seller it names, under its canonical URL. The URL the
        listing linked (before any redirect) names the same seller."""
        seller = extract_seller(
            response.url,
            response.body,
            headers,
            selectors=self.source.selectors,
            site_is_seller=False,
        )
        asked = response.meta.get("redirect_urls", [response.url])[0]
        linked = (("profile", asked, "link to the profile"),) if asked != response.url else ()
        seller = replace(seller, identifiers=seller.identifiers + linked)
        seller = profile_seller(seller, self.allowed_hosts, canonical)
        return self.seller_item(canonical(response.url), seller, response)

    def listing_items(self, response: Response, listing: Listing):
        listing = self.with_identity(response, listing)
        seller_key, seller = None, None
        if self.site_is_seller:
            seller_key, seller = self.site_seller(listing)
        else:
            if listing.field_sources.get("seller") == "site":  # the marketplace, not a seller
                listing = replace(listing, seller=None)
            seller_key, seller, profile = listing_reference(listing, self.allowed_hosts, canonical)
            profile = self.followable(response, profile)
            if profile and self.follow_sellers and canonical(profile) not in self.seller_pages:
                self.seller_pages.add(canonical(profile))
                yield self.page_request(profile, role="seller")
        yield self.listing_item(listing, seller_key, seller, response)

    def followable(self, response: Response, url: str | None) -> str | None:
        """A link from the page as an absolute http(s) URL, or None (javascript:, data:...)."""
        if not url:
            return None
        absolute = response.urljoin(url.strip())
        if urlsplit(absolute).scheme in ("http", "https"):
            return absolute
        self.crawler.stats.inc_value("grayhound/link_not_followable")
        logger.info("not following %r from %s: not an http(s) URL", url[:200], response.url)
        return None

    def with_identity(self, response: Response, listing: Listing) -> Listing:
        """Settle the listing's canonical URL: a declared canonical on an allowed host wins."""
        declared = listing.canonical_url
        if declared and host_allowed(declared, self.allowed_hosts):
            identity = canonical(declared)
        else:
            if declared:
                self.crawler.stats.inc_value("grayhound/canonical_off_site_ignored")
            identity = canonical(response.url)
        return replace(listing, canonical_url=identity)

    def public_domain(self) -> str:
        """The domain the storefront is known by: the configured `site_domain` (an override),
        else what the shop says of itself (Shopify's /meta.json), else the crawled host."""
        found = self.store_seller
        return (
            self.source.site_domain
            or (found.domain if found else None)
            or urlsplit(self.source.start_urls[0]).hostname
        )

    def site_seller(self, listing: Listing) -> tuple[str, Seller]:
        """The storefront itself as the seller of every listing: its crawled origin is its
        identity; its public domain, shop domains, name and contacts are its aliases."""
        domain = self.public_domain()
        found = self.store_seller
        name = (found.name if found else None) or listing.seller or self.source.name
        origin = _origin(self.source.start_urls[0])
        identifiers = [("site", urlsplit(origin).netloc.lower(), "crawled storefront")]
        if self.source.site_domain:
            identifiers.append(("shop_domain", self.source.site_domain, "config site_domain"))
        identifiers.append(("name", name, "storefront name"))
        if found is not None:  # a storefront's own pages are no profile; its links are its own
            own, _ = classify(found.identifiers, self.allowed_hosts, canonical)
            identifiers.extend(i for i in own if i[0] != "profile")
        seller = Seller(
            name=name,
            url=origin,
            domain=domain,
            claimed_domain=found.claimed_domain if found else None,
            identifiers=tuple(dict.fromkeys(identifiers)),
        )
        return "site:" + urlsplit(origin).netloc.lower(), seller

    # -- items ------------------------------------------------------------------------------
    def listing_item(
        self,
        listing: Listing,
        seller_key: str | None,
        seller: Seller | None = None,
        response: Response | None = None,
    ) -> dict:
        """The listing, and the seller it names (stored first, under seller_key)."""
        if self.site_is_seller and not listing.seller_domain:
            listing = replace(
                listing,
                seller=listing.seller or (self.store_seller.name if self.store_seller else None),
                seller_domain=self.public_domain(),
            )
        self.figures["listings"] += 1
        for name, value in (
            ("with_title", listing.title),
            ("with_price", listing.price),
            ("with_currency", listing.currency),
            ("with_seller", listing.seller),
        ):
            self.figures[name] += bool(value)
        return {
            "type": "listing",
            "source": self.name,
            "listing": listing,
            "seller_key": seller_key,
            "seller": seller,
            "seen_at": utc_now(),
            "capture": capture_of(response),
        }

    def seller_item(self, key: str, seller: Seller, response: Response | None = None) -> dict:
        return {
            "type": "seller",
            "source": self.name,
            "key": key,
            "seller": seller,
            "seen_at": utc_now(),
            "capture": capture_of(response),
        }

    def failure_item(
        self, url: str, status: int | None, reason: str, response: Response | None = None
    ) -> dict:
        self.figures["failures"] += 1
        logger.warning("failed %s: %s", url, reason)
        return {
            "type": "failure",
            "source": self.name,
            "url": url,
            "status": status,
            "reason": reason,
            "seen_at": utc_now(),
            "capture": capture_of(response),
        }

    def failed(self, failure):
        """Errback: every request that finally failed becomes a recorded failure."""
        request = failure.request
        # A redirected request failed: record the URL the crawl asked for, name where it went.
        url = request.meta.get("redirect_urls", [request.url])[0]
        if request.meta.get("render_refused"):  # the browser's document request was refused
            yield self.failure_item(url, None, request.meta["render_refused"])
        elif failure.check(HttpError):
            response = failure.value.response
            self.figures["pages_fetched"] += 1
            yield self.failure_item(url, response.status, f"HTTP {response.status}", response)
        elif failure.check(HostStopped):
            status = getattr(failure.value, "status", None)
            yield self.failure_item(url, status, str(failure.value)[:500])
        elif failure.check(OutsideAllowedHosts):
            where = f"redirect to {request.url}" if url != request.url else "link"
            yield self.failure_item(url, None, f"refused: {where} outside allowed_hosts")
        elif "robots.txt" in str(failure.value):
            self.crawler.stats.inc_value("grayhound/skipped_robots_txt")
            if self.report_empty_pages:
                yield self.failure_item(url, None, "blocked by robots.txt")
        else:
            reason = f"{type(failure.value).__name__}: {failure.getErrorMessage()}"
            yield self.failure_item(url, None, reason[:500])


def requested_url(response: Response) -> str:
    """The URL the crawl asked for, before any redirect (a listed page's own address)."""
    try:
        return response.meta.get("redirect_urls", [response.url])[0]
    except AttributeError:  # a response not tied to a request (tests, tools)
        return response.url


def no_listing_reason(listing: Listing, rendered: bool = False) -> str:
    """Why a fetched page gave no listing, in the words the crawl summary groups by."""
    why = listing.product_reason or "nothing recognised"
    if listing.field_sources.get("is_product") != "no price":
        return f"not a product page ({why})"
    hint = "" if rendered else "; if the shop fills it in by script, set render = true"
    return f"no price found ({why}{hint})"


def capture_of(response: Response | None) -> str | None:
    """The WARC record id crawler.capture.middleware gave this response, if it was captured."""
    try:
        return response.meta.get("capture") if response is not None else None
    except AttributeError:  # a response not tied to a request (tests, tools)
        return None


def _with_shop_facts(known: Seller | None, page: Seller) -> Seller:
    """The storefront's seller from its start page, with what the shop already said of itself
    (Shopify's /meta.json: name, domain) taking precedence."""
    if known is None:
        return page
    return replace(
        page,
        name=known.name or page.name,
        domain=known.domain or page.domain,
        identifiers=tuple(dict.fromkeys(known.identifiers + page.identifiers)),
    )


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _is_html(response: Response) -> bool:
    content_type = response.headers.get(b"Content-Type", b"").lower()
    if any(t in content_type for t in HTML_TYPES):
        return True
    return not content_type and response.body[:512].lstrip().lower().startswith(
        (b"<!doctype", b"<html")
    )


def _content_type(response: Response) -> str:
    return response.headers.get(b"Content-Type", b"").decode("latin-1") or "no Content-Type"


def _headers(response: Response) -> dict[str, str]:
    return {
        k.decode("latin-1"): b", ".join(v).decode("latin-1") for k, v in response.headers.items()
    }
