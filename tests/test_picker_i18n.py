"""Strings the user sees (picker/i18n.py, pure CPython), and the agreement between the picker's code
and locales/en.json: every key the code asks for exists, every key exists for a reason, and every
placeholder a message needs is given where the code formats it."""

from __future__ import annotations

import ast
import json
import string
from dataclasses import dataclass
from pathlib import Path
from typing import TypeGuard

import pytest

from picker.i18n import Catalog, available_languages, choose_language, load_catalog, plural_category
from picker.sources import AVAILABLE
from store.assets import FRAME_KEYS

ROOT = Path(__file__).resolve().parent.parent
PICKER = ROOT / "picker"
LOCALES = ROOT / "locales"
EN = json.loads((LOCALES / "en.json").read_text(encoding="utf-8"))

# What a `{count}` in an f-string key stands for: the code picks ".one" or ".many".
KEY_VARIANTS = {
    "count": ("one", "many"),
    "device": ("camera", "microphone"),  # the capture sources' devices
    "kind": ("video", "audio"),  # getUserMedia's kinds of device
    "problem": ("refused", "none", "busy", "insecure", "unsupported", "other"),  # picker.capture.Problem
}


# --- Catalog.t ----------------------------------------------------------------------------------


def test_t_returns_a_plain_message():
    assert Catalog("en", {"hello": "Hello"}).t("hello") == "Hello"


def test_t_fills_in_named_params():
    catalog = Catalog("en", {"file.progress": "Uploading {filename} ({percent}%)"})
    assert catalog.t("file.progress", filename="a.png", percent=40) == "Uploading a.png (40%)"


def test_t_chooses_the_plural_form_by_count():
    catalog = Catalog("en", {"n": {"one": "{count} file", "other": "{count} files"}})
    assert catalog.t("n", count=1) == "1 file"
    assert catalog.t("n", count=0) == "0 files"
    assert catalog.t("n", count=2) == "2 files"
    assert catalog.t("n", count=21) == "21 files"


def test_t_plural_form_may_use_other_params():
    catalog = Catalog("en", {"bad": {"one": "{names} is bad", "other": "{names} are bad"}})
    assert catalog.t("bad", count=2, names="a, b") == "a, b are bad"


def test_t_of_an_unknown_key_fails_loudly():
    with pytest.raises(KeyError):
        Catalog("en", {}).t("missing.key")


def test_english_plural_categories():
    assert plural_category("en", 1) == "one"
    assert [plural_category("en", n) for n in (0, 2, 5, 100)] == ["other"] * 4


def test_load_catalog_reads_the_locale_file():
    catalog = load_catalog("en", LOCALES)
    assert catalog.language == "en"
    assert catalog.t("dialog.close") == EN["dialog.close"]


def test_available_languages_lists_the_locale_files():
    assert "en" in available_languages(LOCALES)


def test_available_languages_in_a_directory(tmp_path):
    for name in ("pt", "en", "es_mx"):
        (tmp_path / f"{name}.json").write_text("{}")
    (tmp_path / "README.md").write_text("not a locale")
    assert available_languages(tmp_path) == ["en", "es_mx", "pt"]


# --- choose_language ----------------------------------------------------------------------------


def test_the_requested_language_wins_when_available():
    assert choose_language("fr", ["de-DE", "en"], ["de", "en", "fr"]) == "fr"


def test_without_a_request_the_first_available_browser_language_is_used():
    assert choose_language(None, ["xx-YY", "de-DE", "fr"], ["de", "en", "fr"]) == "de"


def test_an_unavailable_request_falls_back_to_the_browser():
    assert choose_language("ko", ["fr-CA"], ["en", "fr"]) == "fr"


def test_a_region_falls_back_to_its_language():
    assert choose_language("pt-BR", [], ["en", "pt"]) == "pt"


def test_a_region_is_preferred_when_it_exists():
    assert choose_language("pt-BR", [], ["en", "pt", "pt_br"]) == "pt_br"


@pytest.mark.parametrize("tag", ["es_MX", "es-MX", "es-mx", "ES_mx"])
def test_region_tags_are_normalised(tag):
    assert choose_language(tag, [], ["en", "es", "es_mx"]) == "es_mx"


def test_a_browser_region_tag_is_normalised_too():
    assert choose_language(None, ["es-MX", "en-US"], ["en", "es_mx"]) == "es_mx"


def test_a_browser_region_falls_back_to_its_language_before_the_next_browser_language():
    assert choose_language(None, ["fr-CA", "de"], ["de", "en", "fr"]) == "fr"


def test_default_is_english():
    assert choose_language(None, [], ["de", "en"]) == "en"
    assert choose_language("xx", ["yy-ZZ"], ["de", "en"]) == "en"


def test_an_empty_request_is_ignored():
    assert choose_language("", ["de"], ["de", "en"]) == "de"


# --- the picker's code against locales/en.json --------------------------------------------------


@dataclass(frozen=True)
class Usage:
    where: str  # file:line
    keys: tuple[str, ...]  # what the key expression can evaluate to
    params: frozenset[str] | None  # keyword arguments given; None when **kwargs hides them


def _is_t_call(node: ast.AST) -> TypeGuard[ast.Call]:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    return (isinstance(func, ast.Name) and func.id == "t") or (isinstance(func, ast.Attribute) and func.attr == "t")


def _expand_fstring(node: ast.JoinedStr, where: str) -> tuple[str, ...]:
    keys = [""]
    for part in node.values:
        if isinstance(part, ast.Constant) and isinstance(part.value, str):
            keys = [k + part.value for k in keys]
        elif isinstance(part, ast.FormattedValue) and isinstance(part.value, ast.Name) and part.value.id in KEY_VARIANTS:
            keys = [k + v for k in keys for v in KEY_VARIANTS[part.value.id]]
        else:
            raise AssertionError(f"{where}: dynamic locale key {ast.unparse(node)} — teach this test what it can be")
    return tuple(keys)


def _scan() -> tuple[list[Usage], list[str]]:
    trees = {path: ast.parse(path.read_text(encoding="utf-8"), str(path)) for path in sorted(PICKER.rglob("*.py"))}
    labels = [service.label for service in AVAILABLE.values()]  # what `t(service.label)` can be
    usages = []
    for path, tree in trees.items():
        for node in ast.walk(tree):
            if not _is_t_call(node) or not node.args:
                continue
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            key = node.args[0]
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                keys: tuple[str, ...] = (key.value,)
            elif isinstance(key, ast.JoinedStr):
                keys = _expand_fstring(key, where)
            elif isinstance(key, ast.Attribute) and key.attr == "label":
                keys = tuple(labels)
            elif isinstance(key, ast.IfExp) and all(
                isinstance(side, ast.Constant) and isinstance(side.value, str) for side in (key.body, key.orelse)
            ):
                keys = (key.body.value, key.orelse.value)  # type: ignore[attr-defined]
            else:
                raise AssertionError(f"{where}: locale key {ast.unparse(key)} — teach this test what it can be")
            names = [kw.arg for kw in node.keywords]
            params = frozenset(n for n in names if n is not None) if None not in names else None
            usages.append(Usage(where, keys, params))
    return usages, labels


USAGES, LABELS = _scan()
# ...and the words of the frame the loader draws before the picker is ready (store/assets.py).
USED_KEYS = {key for usage in USAGES for key in usage.keys} | set(LABELS) | set(FRAME_KEYS.values())


def _placeholders(message: str) -> set[str]:
    fields = set()
    for _, field, _, _ in string.Formatter().parse(message):
        if field is not None:
            fields.add(field.split(".")[0].split("[")[0])
    return fields


def _forms(message) -> list[str]:
    return list(message.values()) if isinstance(message, dict) else [message]


def test_the_scan_finds_the_pickers_strings():
    # A scan that found nothing would make the next test pass vacuously.
    assert len(USAGES) >= 15
    assert "source.computer" in LABELS
    assert {"dialog.title.one", "dialog.title.many", "computer.drop.many", "error.upload"} <= USED_KEYS


def test_every_key_the_code_uses_is_in_en_json():
    missing = sorted(f"{key} ({usage.where})" for usage in USAGES for key in usage.keys if key not in EN)
    missing += sorted(f"{label} (source label)" for label in LABELS if label not in EN)
    assert missing == []


def test_every_key_in_en_json_is_used_by_the_code():
    assert sorted(set(EN) - USED_KEYS) == []


def test_every_placeholder_is_supplied_where_the_code_formats_the_message():
    problems = []
    for usage in USAGES:
        if usage.params is None:
            continue
        for key in usage.keys:
            message = EN.get(key)
            if message is None:
                continue
            needed = set().union(*(_placeholders(form) for form in _forms(message)))
            if isinstance(message, dict):
                needed.add("count")  # Catalog.t needs it to choose the form
            if needed - usage.params:
                problems.append(f"{usage.where}: {key} needs {sorted(needed - usage.params)}")
    assert problems == []


def test_plural_messages_have_the_forms_english_needs():
    for key, message in EN.items():
        if isinstance(message, dict):
            assert set(message) >= {plural_category("en", n) for n in (0, 1, 2)}, key


def test_en_json_values_are_strings_or_plural_dicts_of_strings():
    for key, message in EN.items():
        assert all(isinstance(form, str) and form for form in _forms(message)), key


def test_every_en_message_formats_with_the_params_the_code_gives():
    # End to end through Catalog.t: each usage, with dummy values for its params, renders a string
    # with no "{" left over.
    catalog = load_catalog("en", LOCALES)
    for usage in USAGES:
        if usage.params is None:
            continue
        params = {name: 2 if name == "count" else f"<{name}>" for name in usage.params}
        for key in usage.keys:
            text = catalog.t(key, **params)
            assert "{" not in text and "}" not in text, (usage.where, key, text)
