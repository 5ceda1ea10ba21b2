"""Money as shops print it: amounts and currencies, one row per format."""

from __future__ import annotations

import pytest

from crawler.pages.money import detect_currency, format_price, parse_amount

AMOUNTS = [
    # printed text, expected decimal string
    ("US $199.99", "199.99"),
    ("1.299,00 €", "1299.00"),
    ("£749", "749.00"),
    ("¥2,999", "2999.00"),
    ("R$ 1.299,90", "1299.90"),
    ("CHF 1'299.–", "1299.00"),
    ("1 299,99 zł", "1299.99"),
    ("EUR 899", "899.00"),
    ("$1,099.00", "1099.00"),
    ("2,999円", "2999.00"),
    ("1.299,-", "1299.00"),
    ("899,95 € inkl. MwSt.", "899.95"),
    ("1299", "1299.00"),
    ("1299.5", "1299.50"),
    (1299, "1299.00"),
    (19.99, "19.99"),
    ("0", None),
    ("free", None),
    ("", None),
    (None, None),
    (True, None),
]

CURRENCIES = [
    # printed text, source default currency, expected ISO code, expected problem fragment
    ("US $199.99", None, "USD", None),
    ("1.299,00 €", "USD", "EUR", None),
    ("£749", None, "GBP", None),
    ("₹74,999", None, "INR", None),
    ("1 299,99 zł", None, "PLN", None),
    ("R$ 1.299,90", "USD", "BRL", None),
    ("C$ 1,299.00", None, "CAD", None),
    ("A$ 999", None, "AUD", None),
    ("CHF 1'299.–", None, "CHF", None),
    ("EUR 899", None, "EUR", None),
    ("CN¥ 1,999", None, "CNY", None),
    ("JP¥ 2,999", None, "JPY", None),
    ("2,999円", None, "JPY", None),
    ("1999元", None, "CNY", None),
    ("1,299,000원", None, "KRW", None),
    ("RMB 1999", None, "CNY", None),
    ("$1,099.00", "USD", "USD", None),
    ("$1,099.00", "CAD", "CAD", None),
    ("$1,099.00", "EUR", None, "ambiguous currency symbol '$'"),
    ("$1,099.00", None, None, "ambiguous currency symbol '$'"),
    ("¥2,999", None, None, "ambiguous currency symbol '¥'"),
    ("¥2,999", "JPY", "JPY", None),
    ("1 299 kr", None, None, "ambiguous currency symbol 'kr'"),
    ("1 299 kr", "SEK", "SEK", None),
    ("1299", None, None, None),
    ("Pay a $5 fee", None, None, "ambiguous"),
]


@pytest.mark.parametrize(("text", "expected"), AMOUNTS)
def test_amount(text, expected) -> None:
    assert format_price(parse_amount(text)) == expected


@pytest.mark.parametrize(("text", "default", "code", "problem"), CURRENCIES)
def test_currency(text, default, code, problem) -> None:
    found, found_problem = detect_currency(text, default)
    assert found == code
    if problem:
        assert problem in found_problem
    else:
        assert found_problem is None


RESOLVED = [
    # printed price, source default, page lang, site host, expected ISO code, words of the reason
    ("¥ 2,999", None, "zh-CN", "jd.com", "CNY", "page language zh-CN"),
    ("￥55,800", None, "ja", "rakuten.co.jp", "JPY", "country domain .jp"),
    ("￥200,700（税込）", None, "ja", "yodobashi.com", "JPY", "page language ja"),
    ("¥194,700", None, "en", "amazon.co.jp", "JPY", "country domain .jp"),
    ("$1,099.00", None, "en-AU", "jbhifi.com.au", "AUD", "country domain .au"),
    ("$34,990", None, "zh-TW", "pchome.com.tw", "TWD", "country domain .tw"),
    ("$249.990", None, "es-CL", "paris.cl", "CLP", "country domain .cl"),
    ("$ 699.900", None, "es-CO", "falabella.com.co", "COP", "country domain .co"),
    ("$4,299", None, "es-MX", "mercadolibre.com.mx", "MXN", ".mx"),
    ("$549.00", None, "en-SG", "lazada.sg", "SGD", ".sg"),
    ("$589.00", None, "en-US", "amazon.com", "USD", "page language en-US"),
    ("$1,099.00", "CAD", "en-AU", "jbhifi.com.au", "CAD", "source's configured currency"),
    ("Rs 54,999", None, "en-PK", "daraz.pk", "PKR", ".pk"),
    ("Rs. 12,999", None, "en-IN", "snapdeal.com", "INR", "page language en-IN"),
    ("11 990 kr", None, "sv-SE", "elgiganten.se", "SEK", ".se"),
    ("kr 7 990", None, "nb-NO", "finn.no", "NOK", ".no"),
    ("4.199,00 kr.", None, "da-DK", "elgiganten.dk", "DKK", ".dk"),
    ("RM 2,391.00", None, "ms-MY", "shopee.com.my", "MYR", "'RM'"),
    ("16.999,00 TL", None, "tr-TR", "trendyol.com", "TRY", "'TL'"),
    ("KSh 24,999", None, "en-KE", "jumia.co.ke", "KES", "'KSh'"),
    ("US$ 899", "SGD", "en-SG", "shopee.sg", "USD", "'US$'"),
    ("€ 899,00", "USD", "en-US", "ebay.com", "EUR", "'€'"),
    ("319.00", "GBP", "en-GB", "currys.co.uk", "GBP", "no currency printed"),
    # a country domain sold to anyone says nothing; nothing else does either
    ("$19.99", None, None, "brand.co", None, None),
    ("$19.99", None, "en", "shop.io", None, None),
    ("¥2,999", None, None, None, None, None),
]


@pytest.mark.parametrize(("text", "default", "lang", "host", "code", "why"), RESOLVED)
def test_shared_signs_are_settled_by_the_pages_evidence(text, default, lang, host, code, why):
    from crawler.pages.money import resolve_currency

    found = resolve_currency(text, default=default, lang=lang, host=host)
    assert found.code == code
    if code:
        assert why in found.source
    else:
        assert "ambiguous" in found.problem


AMOUNTS_IN = [
    # printed, currency, expected: no minor units means a lone '.000' groups thousands
    ("Rp 4.999.000", "IDR", "4999000"),
    ("Rp 35.000", "IDR", "35000"),
    ("4.799.000", "IDR", "4799000"),
    ("12.500", "JPY", "12500"),
    ("12.500", "EUR", "12.5"),
    ("₹1,29,999", "INR", "129999"),
    ("₹1,13,999", "INR", "113999"),
    ("59,800円", "JPY", "59800"),
    ("￥200,700（税込）", "JPY", "200700"),
    ("RM 2,391.00", "MYR", "2391.00"),
    ("$249.990", "CLP", "249990"),
    ("8.990.000₫", "VND", "8990000"),
    ("₩1,299,000", "KRW", "1299000"),
]


@pytest.mark.parametrize(("text", "code", "expected"), AMOUNTS_IN)
def test_amounts_are_read_with_their_currencys_minor_units(text, code, expected):
    from decimal import Decimal

    from crawler.pages.money import amount_in, minor_units

    assert amount_in(text, code) == Decimal(expected)
    assert minor_units("JPY") == 0 and minor_units("IDR") == 0 and minor_units("USD") == 2
