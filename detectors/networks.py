"""Seller networks: sellers that share strong signals, across sources.

A tie is one shared value: the same registrable domain (claimed, operated, or behind a
business email address), phone number, email address, postal address, company registration
or VAT number, registered company name, image URL, or a near-identical listing description. Sellers joined by ties,
directly or through each other, form a network; each network lists the ties that make it.

What ties nobody: the brand's official and authorized domains (anyone can claim them), free
mail providers, placeholder images, and any value that many sellers share (`MAX_TIE`, or
more than half the sellers): a marketplace's support line or stock photo is not a network.
`find_networks(sellers, book) -> list[Network]`. Pure: no store, no network access."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from detectors._data import FREE_MAIL_DOMAINS, PLACEHOLDER_IMAGE_WORDS
from detectors.book import BrandBook, hosted_site, split_host

# A value shared by more sellers than this is common property (a support line, stock text).
MAX_TIE = 8
# Phone numbers compare by their last digits: '+1 512 555 0199' and '(512) 555-0199' agree.
PHONE_TAIL = 9
MIN_PHONE = 7
MIN_ADDRESS = 12
MIN_COMPANY_ID = 5
# Near-identical descriptions: word shingles, and how much of them two texts must share.
SHINGLE = 4
MIN_DESCRIPTION = 60  # characters, normalised; shorter texts say too little
LONG_DESCRIPTION = 120  # one near-identical text this long ties; shorter ones need two
NEAR_IDENTICAL = 0.7  # Jaccard of the shingle sets: one word changed in thirty still ties
DESCRIPTIONS_PER_SELLER = 50  # enough to find a template; bounded work per seller
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class SellerSignals:
    seller_id: int
    source: str
    name: str | None = None
    domains: tuple[str, ...] = ()  # hosts it claims or operates
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()
    company_ids: tuple[str, ...] = ()
    legal_names: tuple[str, ...] = ()
    images: tuple[str, ...] = ()  # its listings' image URLs
    descriptions: tuple[str, ...] = ()  # its listings' descriptions


@dataclass(frozen=True)
class Tie:
    kind: str  # domain | phone | email | address | company_id | image | description
    value: str
    sellers: tuple[int, ...]
    why: str

    def to_dict(self) -> dict:
        return {"kind": self.kind, "value": self.value, "sellers": list(self.sellers),
                "why": self.why}  # fmt: skip


@dataclass(frozen=True)
class Network:
    sellers: tuple[int, ...]
    sources: tuple[str, ...]
    ties: tuple[Tie, ...]


def find_networks(sellers: Sequence[SellerSignals], book: BrandBook) -> list[Network]:
    """Every network among `sellers`, all held at once (`grayhound detect` finds the same
    ties through the store, seller by seller: the pieces below)."""
    total = len(sellers)
    holders: dict[tuple[str, str], dict[int, str]] = defaultdict(dict)
    for seller in sellers:
        for kind, value, shown in seller_keys(seller, book):
            holders[(kind, value)].setdefault(seller.seller_id, shown)
    ties = [
        exact_tie(kind, value, by_seller)
        for (kind, value), by_seller in sorted(holders.items())
        if specific(len(by_seller), total)
    ]
    ties += _description_ties(sellers, total)
    return networks_of(ties, {s.seller_id: s.source for s in sellers})


def networks_of(ties: Sequence[Tie], sources: dict[int, str]) -> list[Network]:
    """Sellers joined by ties, directly or through each other; each network with its ties
    (in the order given) and sources. `sources`: {seller id: source} of every seller."""
    parent = {seller: seller for tie in ties for seller in tie.sellers}

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for tie in ties:
        first = root(tie.sellers[0])
        for other in tie.sellers[1:]:
            parent[root(other)] = first
    members: dict[int, list[int]] = defaultdict(list)
    for seller in parent:
        members[root(seller)].append(seller)
    own: dict[int, list[Tie]] = defaultdict(list)
    for tie in ties:
        own[root(tie.sellers[0])].append(tie)
    networks = [
        Network(
            tuple(sorted(group)),
            tuple(sorted({sources[m] for m in group})),
            tuple(own[top]),
        )
        for top, group in members.items()
        if len(group) >= 2
    ]
    return sorted(networks, key=lambda n: n.sellers)


def specific(holders: int, total: int) -> bool:
    """A value held by `holders` of `total` sellers is specific: shared by few, not a
    marketplace's support line, a stock photo or a template."""
    return 2 <= holders <= MAX_TIE and not (total >= 6 and holders > total / 2)


def exact_tie(kind: str, value: str, by_seller: dict[int, str]) -> Tie:
    """The tie of sellers holding the same value ({seller id: the value as shown})."""
    shown = sorted(set(by_seller.values()))
    why = _WHY[kind].format(value=" / ".join(shown[:3]))
    return Tie(kind, value, tuple(sorted(by_seller)), why)


_WHY = {
    "domain": "same registrable domain {value}",
    "phone": "same phone number {value}",
    "email": "same email address {value}",
    "address": "same address {value}",
    "company_id": "same company or VAT number {value}",
    "legal_name": "same legal entity {value}",
    "image": "same image {value}",
}


def seller_keys(seller: SellerSignals, book: BrandBook) -> Iterable[tuple[str, str, str]]:
    """(kind, compared value, value as shown) of every strong signal the seller holds."""
    for host in seller.domains:
        registrable = registrable_domain(host)
        if registrable and not book.allowlist.domain_owners(host):
            yield "domain", registrable, registrable
    for email in seller.emails:
        address = email.strip().lower()
        yield "email", address, address
        domain = address.rpartition("@")[2]
        registrable = registrable_domain(domain)
        if registrable and domain not in FREE_MAIL_DOMAINS:
            if not book.allowlist.domain_owners(domain):
                yield "domain", registrable, registrable
    for phone in seller.phones:
        digits = "".join(ch for ch in phone if ch.isdigit())
        if len(digits) >= MIN_PHONE:
            yield "phone", digits[-PHONE_TAIL:], phone
    for address in seller.addresses:
        folded = " ".join(_WORD.findall(address.casefold()))
        if len(folded) >= MIN_ADDRESS and any(ch.isdigit() for ch in folded):
            yield "address", folded, address
    for number in seller.company_ids:
        compact = "".join(_WORD.findall(number.upper()))
        if len(compact) >= MIN_COMPANY_ID and any(ch.isdigit() for ch in compact):
            yield "company_id", compact, number
    for legal in seller.legal_names:
        folded = " ".join(_WORD.findall(legal.casefold()))
        if len(folded) >= MIN_ADDRESS and len(folded.split()) >= 2:
            yield "legal_name", folded, legal
    for image in seller.images:
        url = image_key(image, book)
        if url:
            yield "image", url, url


def image_key(image: str, book: BrandBook) -> str | None:
    """An image URL as it ties sellers (query and fragment dropped), or None for one that
    ties nobody: a placeholder, or the brand's own product photo (every reseller may use it)."""
    url = image.split("#")[0].split("?")[0].strip()
    name = url.rsplit("/", 1)[-1].lower()
    host = url.split("//")[-1].split("/")[0].lower()
    if not url or any(word in name for word in PLACEHOLDER_IMAGE_WORDS):
        return None
    if book.allowlist.domain_owners(host):
        return None
    return url


def registrable_domain(host: str) -> str | None:
    """'shop.xiaomi-deals.com' → 'xiaomi-deals.com'; a site on a hosting platform keeps its
    own name ('deals.myshopify.com')."""
    host = host.lower().strip().strip(".").removeprefix("www.")
    if not host or "." not in host:
        return None
    subdomain, label, suffix = split_host(host)
    hosted = hosted_site(subdomain, label, suffix) if subdomain else None
    if hosted:
        return f"{hosted[1]}.{hosted[2]}"
    return f"{label}.{suffix}" if label and suffix else None


def description_sample(descriptions: Iterable[str | None]) -> list[tuple[str, frozenset]]:
    """The texts of a seller's descriptions (in order) that can tie it: the first
    DESCRIPTIONS_PER_SELLER distinct ones long enough, each with its word shingles."""
    sample: list[tuple[str, frozenset]] = []
    seen: set[str] = set()
    for raw in descriptions:
        words = _WORD.findall((raw or "").casefold())
        text = " ".join(words)
        if len(text) < MIN_DESCRIPTION or text in seen:
            continue
        seen.add(text)
        grams = frozenset(" ".join(words[i : i + SHINGLE]) for i in range(len(words) - SHINGLE + 1))
        sample.append((text, grams))
        if len(sample) >= DESCRIPTIONS_PER_SELLER:
            break
    return sample


def _description_ties(sellers: Sequence[SellerSignals], total: int) -> list[Tie]:
    """Near-identical descriptions across sellers: texts sharing most of their word
    shingles, found through an index of shingles few sellers share."""
    texts: list[tuple[int, str, frozenset]] = [
        (seller.seller_id, text, grams)
        for seller in sellers
        for text, grams in description_sample(seller.descriptions)
    ]
    index: dict[str, list[int]] = defaultdict(list)
    for position, (_, _, grams) in enumerate(texts):
        for gram in grams:
            index[gram].append(position)
    shared: dict[tuple[int, int], int] = defaultdict(int)
    for positions in index.values():
        if not specific(len({texts[p][0] for p in positions}), total):
            continue
        for i, a in enumerate(positions):
            for b in positions[i + 1 :]:
                if texts[a][0] != texts[b][0]:
                    shared[(a, b)] += 1
    return description_ties(
        (texts[a][0], texts[a][1], len(texts[a][2]), texts[b][0], len(texts[b][2]), count)
        for (a, b), count in shared.items()
    )


def description_ties(pairs: Iterable[tuple[int, str, int, int, int, int]]) -> list[Tie]:
    """Ties from pairs of texts of two sellers sharing specific shingles: (first seller, its
    text, its shingle count, second seller, its shingle count, shingles shared), the first
    seller the one listed first. Near-identical texts tie; two of them, or one long one."""
    found_by_pair: dict[tuple[int, int], set[str]] = defaultdict(set)
    for first, text, first_grams, second, second_grams, count in pairs:
        union = first_grams + second_grams - count
        if union and count / union >= NEAR_IDENTICAL:
            found_by_pair[tuple(sorted((first, second)))].add(text)
    ties = []
    for (first, second), texts in sorted(found_by_pair.items()):
        found = sorted(texts, key=lambda text: (-len(text), text))
        if len(found) >= 2 or len(found[0]) >= LONG_DESCRIPTION:
            sample = found[0][:80] + ("…" if len(found[0]) > 80 else "")
            why = f"near-identical listing descriptions ({len(found)}), e.g. '{sample}'"
            ties.append(Tie("description", found[0][:200], (first, second), why))
    return ties
