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
