"""customText and customCss in the pure core (picker/customizing.py): where they may come from, and
what a customText file does to the pack."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from picker.customizing import allowed_url, custom_text
from picker.fperror import BAD_PARAMETERS, FPError
from picker.i18n import Catalog, double_braced, full_pack

PACK = {"title": "Pick a file", "upload": "Uploading {filename}", "n": {"one": "{count} file", "other": "{count} files"}}
PAGE = "http://shop.example:8080/checkout"
STORE = "http://127.0.0.1:8000/"


@pytest.mark.parametrize("value, resolved", [
    ("https://cdn.example/text.json", "https://cdn.example/text.json"),
    ("//cdn.example/text.json", "http://cdn.example/text.json"),
    ("/texts/fr.json", "http://shop.example:8080/texts/fr.json"),
    ("http://127.0.0.1:8000/locales/en.json", "http://127.0.0.1:8000/locales/en.json"),
])
def test_https_and_own_origins_are_allowed(value, resolved):
    if resolved.startswith("http://cdn"):
        with pytest.raises(FPError) as refused:
            allowed_url("customText", value, PAGE, STORE)
        assert refused.value.code == BAD_PARAMETERS and "//cdn.example/text.json" in refused.value.message
        assert allowed_url("customText", value, "https://shop.example/", STORE) == "https://cdn.example/text.json"
    else:
        assert allowed_url("customText", value, PAGE, STORE) == resolved


@pytest.mark.parametrize("value", ["http://evil.example/x.css", "javascript:alert(1)", "data:text/css,body{}",
                                   "ftp://files.example/x.css", "http://shop.example:9999/x.css"])
def test_other_urls_are_refused_naming_the_option(value):
    with pytest.raises(FPError) as refused:
        allowed_url("customCss", value, PAGE, STORE)
    assert refused.value.code == BAD_PARAMETERS
    assert refused.value.message.startswith("customCss must be an https URL")


def test_a_whole_file_replaces_the_texts_with_double_braced_placeholders():
    loaded = {"title": "Choisir", "upload": "Envoi de {{filename}}", "n": {"one": "{{count}} fichier", "other": "{{count}} fichiers"}}
    made = custom_text(loaded, PACK)
    assert made.problems == () and made.error("u") is None
    catalog = Catalog("fr", made.messages)
    assert catalog.t("upload", filename="a.png") == "Envoi de a.png"
    assert catalog.t("n", count=3) == "3 fichiers"
    assert catalog.t("title") == "Choisir"


def test_blank_values_keep_the_packs_text():
    made = custom_text({"title": "", "upload": "   ", "n": {"one": "", "other": "{{count}} things"}}, PACK)
    assert made.problems == ()
    catalog = Catalog("en", made.messages)
    assert catalog.t("title") == "Pick a file"
    assert catalog.t("upload", filename="x") == "Uploading x"
    assert catalog.t("n", count=1) == "1 file" and catalog.t("n", count=2) == "2 things"


def test_missing_keys_are_named_and_the_rest_is_used():
    made = custom_text({"title": "Hello"}, PACK)
    assert made.missing == ("upload", "n")
    error = made.error("https://x.example/t.json")
    assert error is not None and error.code == BAD_PARAMETERS
    assert "https://x.example/t.json" in error.message and "2 of the language pack's keys are missing: upload, n" in error.message
    assert Catalog("en", made.messages).t("title") == "Hello"
    assert Catalog("en", made.messages).t("upload", filename="f") == "Uploading f"


def test_many_missing_keys_are_counted_not_all_listed():
    pack = {f"k{i}": "x" for i in range(30)}
    message = custom_text({}, pack).problems[0]
    assert message.startswith("30 of the language pack's keys are missing: k0, k1") and message.endswith("and 18 more")


@pytest.mark.parametrize("loaded", [[], "text", 3, None])
def test_a_file_that_is_not_an_object_is_refused_whole(loaded):
    made = custom_text(loaded, PACK)
    assert made.messages == PACK and made.problems == ("it is not a JSON object of keys to texts",)


def test_wrong_placeholders_and_shapes_are_problems_and_keep_the_pack():
    loaded = {"title": 5, "upload": "Sending {{file}}", "n": "{count} items"}
    made = custom_text(loaded, PACK)
    assert "title must be a text" in made.problems
    assert "upload: unknown placeholder {{file}}" in made.problems
    assert "n: write {{count}} with double braces" in made.problems
    assert made.messages["upload"] == PACK["upload"] and made.messages["title"] == PACK["title"]


def test_one_text_for_a_plural_message_serves_every_count():
    made = custom_text({"title": "t", "upload": "u {{filename}}", "n": "files: {{count}}"}, PACK)
    assert made.problems == ()
    assert Catalog("en", made.messages).t("n", count=1) == "files: 1"


def test_lone_braces_show_as_themselves():
    made = custom_text({"title": "a {b} }", "upload": "{{filename}}", "n": {"one": "x", "other": "y"}}, PACK)
    assert Catalog("en", made.messages).t("title") == "a {b} }"


def test_the_published_english_pack_read_back_as_custom_text_is_english():
    # What the store serves at /locales/en.json (double braces), given back as customText, changes nothing.
    locales = Path(__file__).resolve().parent.parent / "locales"
    english = full_pack("en", locales)
    published = json.loads(json.dumps(double_braced(english)))
    made = custom_text(published, english)
    assert made.problems == () and made.messages == english
