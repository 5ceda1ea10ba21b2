"""Listings in a batch: price against MSRP and peers, seller risk, authorization, gray import."""

from detectors import ListingFacts, SellerFacts, assess_listings, assess_sellers


def _listing(i, title="Xiaomi 14 Pro 12GB 256GB", price="999.00", **kw):
    base = dict(currency="USD", condition="new", seller_name="Gadget Corner")
    return ListingFacts(id=str(i), title=title, price=price, **{**base, **kw})


def _one(book, **kw):
    return assess_listings([_listing(1, **kw)], book)[0]


def test_fair_price_from_honest_unauthorized_reseller_is_clean(book):
    found = _one(book)
    assert found.model == "Xiaomi 14 Pro" and found.msrp == 999.0 and found.price_ratio == 1.0
    assert found.flags == ("unauthorized_seller",)
    assert found.verdict == "clean"
    assert any("neither official nor an authorized Xiaomi reseller" in r for r in found.reasons)


def test_authorized_reseller_is_not_unauthorized(book):
    found = _one(book, seller_name="TechNova", price="989")
    assert found.flags == () and found.verdict == "clean"


def test_authorization_is_per_brand(book):
    assert "unauthorized_seller" in _one(book, seller_name="Best Buy").flags
    samsung = _one(book, title="Samsung Galaxy S24 256GB", price="799", seller_name="Best Buy")
    assert "unauthorized_seller" not in samsung.flags


def test_cheap_new_flagship_is_price_low(book):
    found = _one(book, price="399.00")
    assert "price_low" in found.flags and found.verdict == "suspicious"


def test_cheap_flagship_from_impersonating_seller_is_suspected_counterfeit(book):
    found = _one(book, price="399.00", seller_name="Xiaomi Official Store")
    assert found.verdict == "impersonation"
    assert {"impersonation", "price_low"} <= set(found.flags)
    assert any("suspected counterfeit" in r for r in found.reasons)


def test_used_goods_are_judged_on_their_own_terms(book):
    assert "price_low" not in _one(book, price="399", condition="used").flags
    assert "price_low" in _one(book, price="199", condition="used").flags


def test_accessories_are_never_compared_with_the_phone_msrp(book):
    found = _one(book, title="Case for Xiaomi 14 Pro", price="9.99")
    assert found.is_accessory and found.model == "Xiaomi 14 Pro"
    assert found.msrp is None and "price_low" not in found.flags


def test_msrp_in_listing_currency_first_then_converted(book):
    eur = _one(book, currency="EUR", price="1099")
    assert (eur.msrp, eur.msrp_currency, eur.price_ratio) == (1099.0, "EUR", 1.0)
    cny = _one(book, currency="CNY", price="7000")
    assert cny.msrp_currency == "USD" and abs(cny.price_ratio - 0.981) < 0.001


def test_no_currency_means_no_price_flag(book):
    found = _one(book, currency=None, price="10")
    assert found.price_ratio is None and "price_low" not in found.flags
    assert any("no currency" in r for r in found.reasons)


def test_gray_import_quotes_the_phrase(book):
    found = _one(book, description="Global Version, keine EU-Garantie")
    assert "gray_import" in found.flags
    assert any("'Global Version'" in r for r in found.reasons)


def test_peer_outliers_need_five_peers(book):
    prices = ["999", "989", "1009", "995", "1001", "999"]
    batch = [_listing(i, price=p) for i, p in enumerate(prices)]
    batch.append(_listing(99, price="700"))
    found = assess_listings(batch, book)[-1]
    # 70 % is over low_ratio but far under its peers: a reason and more risk, while the
    # price_low flag stays what the configured ratio says
    assert any("other new Xiaomi 14 Pro listings" in r for r in found.reasons)
    assert "price_low" not in found.flags
    few = assess_listings(batch[:3] + batch[-1:], book)[-1]
    assert not any("other new Xiaomi 14 Pro listings" in r for r in few.reasons)
    assert found.risk > few.risk


def test_seller_findings_are_reused_by_key(book):
    sellers = assess_sellers([SellerFacts("s1", "Xiaomi Official", "bazaar.example")], book)
    assert sellers[0].verdict == "impersonation" and sellers[0].kind == "seller"
    listing = _listing(1, seller_key="s1", seller_name=None)
    found = assess_listings([listing], book, {"s1": sellers[0]})[0]
    assert found.verdict == "impersonation"


def test_seller_combines_name_domain_and_claimed_domain(book):
    (found,) = assess_sellers(
        [SellerFacts("s2", "Phone Paradise", "xiaomi-store.shop", "mi.com")], book
    )
    assert found.verdict == "impersonation"
    assert "suspicious_domain" in found.flags and "impersonation" in found.flags
    (honest,) = assess_sellers([SellerFacts("s3", "Best Buy", "bazaar.example")], book)
    assert honest.verdict == "clean"


def _variant_book(book):
    from dataclasses import replace

    from detectors import BrandBook

    catalog = tuple(
        replace(m, variant_msrp={"1TB": {"USD": 1399.0}}) if m.model == "Xiaomi 14 Pro" else m
        for m in book.config.catalog
    )
    return BrandBook.from_config(replace(book.config, catalog=catalog))


def test_the_storage_variants_msrp_is_used_when_the_title_names_it(book):
    variant = _variant_book(book)
    found = _one(variant, title="Xiaomi 14 Pro 16GB 1TB Black", price="799.00")
    assert (found.msrp, found.msrp_currency) == (1399.0, "USD")
    assert "price_low" in found.flags
    assert any("Xiaomi 14 Pro 1TB MSRP 1399 USD" in r for r in found.reasons)
    # the base MSRP alone would not flag it (799 / 999 = 0.80)
    assert "price_low" not in _one(book, title="Xiaomi 14 Pro 16GB 1TB Black", price="799").flags
    # another storage, or a currency the variant lacks: the model's own MSRP
    assert _one(variant, title="Xiaomi 14 Pro 512GB", price="999").msrp == 999.0
    eur = _one(variant, title="Xiaomi 14 Pro 1TB", price="1099", currency="EUR")
    assert (eur.msrp, eur.msrp_currency) == (1099.0, "EUR")


def test_a_device_at_a_few_percent_of_msrp_is_marked_for_review_not_price_low(book):
    found = _one(book, title="Xiaomi 14 Pro 512GB", price="25.00")
    assert "price_low" not in found.flags and found.verdict == "suspicious"
    assert any("too cheap to be the phone itself" in r for r in found.reasons)


def test_parts_boxes_and_broken_phones_are_not_compared_with_msrp(book):
    for title in ("Xiaomi 14 Pro empty box", "Xiaomi 14 Pro LCD screen", "Xiaomi 14 Pro dummy"):
        found = _one(book, title=title, price="15.00")
        assert found.is_accessory and found.msrp is None and "price_low" not in found.flags
        assert found.kind in ("packaging", "part", "dummy")
    broken = _one(
        book, title="Xiaomi 14 Pro 256GB for parts no power", price="90", condition="used"
    )
    assert not broken.is_accessory and broken.kind == "device"
    assert broken.msrp is None and "price_low" not in broken.flags
    assert any("sold broken" in r for r in broken.reasons)
