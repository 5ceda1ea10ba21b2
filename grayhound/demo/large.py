"""A large generated marketplace ("large") for benchmarks and load tests.

Thousands of listings rendered from a seeded generator with the markup real marketplaces use:
paginated search pages, item pages with JSON-LD Product/Offer, a seller link and similar
items, and seller profile pages. Nothing is stored on disk: the same seed always yields the
same site, and `ground_truth(n)` says which listing URLs a crawl must find.

    from grayhound.demo.large import large_router
    with serve_sites(sites={"large": large_router(5000)}) as served: ...
"""

from __future__ import annotations

import html
import json
import random
import re
from dataclasses import dataclass
from functools import cache

from grayhound.demo.render import NOT_FOUND, Request, Response
from grayhound.demo.sites import Router

SEED = 20240611  # fixed: benchmarks compare like with like across runs and machines
PER_PAGE = 50  # listings per search page, a common marketplace default
SELLERS = 250  # distinct sellers; each has a profile page
SIMILAR = 4  # "similar items" links per item page: realistic link fan-out for the frontier
FILLER_PARAGRAPHS = 6  # description text, so pages weigh like real ones (~10 KB)
MODELS = (
    ("Xiaomi", "Xiaomi 14 Pro", 999),
    ("Xiaomi", "Redmi Note 13 Pro", 399),
    ("Xiaomi", "Poco F6", 449),
    ("Samsung", "Samsung Galaxy S24", 799),
    ("Samsung", "Samsung Galaxy S24 Ultra", 1299),
    ("Apple", "iPhone 15 Pro", 999),
    ("Apple", "iPhone 15", 799),
)
WORDS = "genuine sealed global version dual sim unlocked fast shipping warranty boxed".split()


@dataclass(frozen=True)
class Item:
    id: int
    title: str
    brand: str
    price: str
    condition: str
    seller: int
    description: str


@cache
def generate(count: int) -> tuple[Item, ...]:
    """`count` listings, the same ones for the same count on every machine."""
    rng = random.Random(SEED)
    items = []
    for number in range(1, count + 1):
        brand, model, msrp = rng.choice(MODELS)
        extra = " ".join(rng.sample(WORDS, 3))
        ratio = rng.uniform(0.45, 1.3)
        condition = rng.choice(("new", "new", "new", "used", "refurbished"))
        words = " ".join(rng.choice(WORDS) for _ in range(40))
        items.append(
            Item(
                id=number,
                title=f"{model} {rng.choice((128, 256, 512))}GB {extra}",
                brand=brand,
                price=f"{msrp * ratio:.2f}",
                condition=condition,
                seller=rng.randrange(SELLERS),
                description=words,
            )
        )
    return tuple(items)


def ground_truth(count: int, base_url: str) -> set[str]:
    """The canonical URL of every listing on a site of `count` listings."""
    return {f"{base_url}/item/{item.id}.html" for item in generate(count)}


def _page(title: str, body: str, head: str = "") -> bytes:
    document = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title>{head}</head><body>"
        "<header><a href='/'>large</a> <a href='/search/page-1.html'>All phones</a></header>"
        f"<main>{body}</main><footer>&copy; large marketplace</footer></body></html>"
    )
    return document.encode("utf-8")


def _ld(data: dict) -> str:
    text = json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
    return f'<script type="application/ld+json">{text}</script>'


def product_page(base_url: str, item: Item, similar: tuple[Item, ...] = ()) -> bytes:
    """An item page in the markup most marketplaces use: JSON-LD plus visible fields."""
    canonical = f"{base_url}/item/{item.id}.html"
    seller = f"Seller {item.seller:03d}"
    offer = {
        "@type": "Offer",
        "url": canonical,
        "price": item.price,
        "priceCurrency": "USD",
        "itemCondition": f"https://schema.org/{item.condition.capitalize()}Condition",
        "availability": "https://schema.org/InStock",
        "seller": {"@type": "Organization", "name": seller},
    }
    product = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": item.title,
        "sku": str(item.id),
        "brand": {"@type": "Brand", "name": item.brand},
        "offers": offer,
    }
    head = f'<link rel="canonical" href="{canonical}">' + _ld(product)
    filler = "".join(f"<p>{html.escape(item.description)}</p>" for _ in range(FILLER_PARAGRAPHS))
    links = "".join(
        f'<li><a href="/item/{o.id}.html">{html.escape(o.title)}</a></li>' for o in similar
    )
    body = (
        f"<h1>{html.escape(item.title)}</h1><span class='price'>US ${item.price}</span>"
        f"<p class='seller'>Sold by <a href='/seller/s{item.seller:03d}.html'>{seller}</a></p>"
        f"<div class='description'>{filler}</div><ul class='similar'>{links}</ul>"
    )
    return _page(item.title, body, head)


def _search(req: Request, match: re.Match, count: int) -> Response:
    items = generate(count)
    page = int(match.group(1))
    pages = max(1, -(-len(items) // PER_PAGE))
    if not 1 <= page <= pages:
        return NOT_FOUND
    shown = items[(page - 1) * PER_PAGE : page * PER_PAGE]
    rows = "".join(
        f'<li><a href="/item/{i.id}.html">{html.escape(i.title)}</a> US ${i.price}</li>'
        for i in shown
    )
    nav = f'<a rel="next" href="/search/page-{page + 1}.html">Next</a>' if page < pages else ""
    return Response(200, _page(f"Phones, page {page}", f"<ul>{rows}</ul>{nav}"))


def _item(req: Request, match: re.Match, count: int) -> Response:
    items = generate(count)
    number = int(match.group(1))
    if not 1 <= number <= len(items):
        return NOT_FOUND
    similar = tuple(items[(number + k * 97) % len(items)] for k in range(1, SIMILAR + 1))
    return Response(200, product_page(req.base_url, items[number - 1], similar))


def _seller(req: Request, match: re.Match, count: int) -> Response:
    seller = int(match.group(1))
    if not 0 <= seller < SELLERS:
        return NOT_FOUND
    name = f"Seller {seller:03d}"
    body = f"<h1 class='seller-name'>{name}</h1><p>Member since 2019. 98% positive feedback.</p>"
    return Response(200, _page(name, body))


def large_router(count: int = 5000) -> Router:
    """The "large" site with `count` listings."""
    router = Router()
    home = _page("large", "<a href='/search/page-1.html'>Phones</a>")
    router.add(r"/", lambda req, m: Response(200, home))
    router.add(r"/robots\.txt", lambda req, m: Response(200, b"User-agent: *\n", "text/plain"))
    router.add(r"/search/page-(\d+)\.html", lambda req, m: _search(req, m, count))
    router.add(r"/item/(\d+)\.html", lambda req, m: _item(req, m, count))
    router.add(r"/seller/s(\d+)\.html", lambda req, m: _seller(req, m, count))
    return router
