"""Model matching explains itself: which catalog tokens matched, which attributes were set
aside, and why a title that fits no model — or two — gets none."""

from __future__ import annotations

from detectors.catalog import read_title


def test_a_match_names_the_tokens_and_keeps_the_attributes(book):
    reading = read_title(book.catalog, "Xiaomi 14 Pro 5G 12GB+512GB Global Version Black")
    assert reading.model.model == "Xiaomi 14 Pro"
    assert "'xiaomi 14 pro'" in reading.model_reason
    assert reading.attributes == {
        "network": "5G",
        "ram": "12GB",
        "storage": "512GB",
        "region": "global version",
        "colour": "black",
    }


def test_optional_brand_words_are_said_to_be_optional(book):
    reading = read_title(book.catalog, "Samsung S24 Ultra 256GB")
    assert reading.model.model == "Samsung Galaxy S24 Ultra"
    assert "'galaxy' optional" in reading.model_reason


def test_an_unexplained_suffix_is_refused_and_named(book):
    reading = read_title(book.catalog, "Xiaomi 14 Pro Max 512GB")
    assert reading.model is None
    assert "goes on with 'max'" in reading.model_reason


def test_a_glued_letter_is_part_of_the_model(book):
    for title in ("Xiaomi 14T 256GB", "Xiaomi 14T Pro 512GB", "Galaxy S24FE 128GB"):
        assert read_title(book.catalog, title).model is None, title


def test_two_models_named_give_none(book):
    reading = read_title(book.catalog, "Case for iPhone 15 / iPhone 15 Pro")
    assert reading.model is None and "names 2 models" in reading.model_reason
    swap = read_title(book.catalog, "Swap my Xiaomi 14 for your Galaxy S24")
    assert swap.model is None


def test_a_model_number_without_its_brand_is_not_guessed(book):
    reading = read_title(book.catalog, "Phone 14 Pro 256GB")
    assert reading.model is None and "needs the brand" in reading.model_reason


def test_no_fit_says_what_the_title_has_instead(book):
    reading = read_title(book.catalog, "Redmi Note 14 Pro 8/256")
    assert reading.model is None
    assert "Xiaomi 14 Pro is near" in reading.model_reason
    assert "'note' right before '14' names another line" in reading.model_reason
    reading = read_title(book.catalog, "Poco F7 12/512")
    assert "Poco F6 is near" in reading.model_reason and "'poco f 7'" in reading.model_reason


def test_brand_names_in_other_scripts_are_brand_evidence(book):
    assert read_title(book.catalog, "小米14 Pro 16+1TB 全新").model.model == "Xiaomi 14 Pro"
    assert read_title(book.catalog, "三星 Galaxy S24 Ultra 12+256").model.model == (
        "Samsung Galaxy S24 Ultra"
    )
