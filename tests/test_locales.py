"""The language packs of locales/ against English: every language of the list has its pack, every
base pack every key, every message its placeholders, every plural message the forms its language
needs (picker.i18n.PLURAL_FORMS, which test_locales_browser holds to the browser's Intl), and no
value left in English unless tests/locales_same/<language>.txt says why that language writes it so.
A regional pack (es_mx, ...) holds only what differs from its base language."""

from __future__ import annotations

import json
import string
from pathlib import Path

import pytest

from picker.i18n import LANGUAGES, PLURAL_FORMS, base_language, full_pack, load_catalog, read_pack

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
SAME = Path(__file__).resolve().parent / "locales_same"
EN = read_pack("en", LOCALES)
OTHERS = [language for language in LANGUAGES if language != "en"]
BASES = [language for language in OTHERS if base_language(language) == language]
REGIONAL = [language for language in OTHERS if base_language(language) != language]
# Forms of a plural message that may leave the number out, the word saying it ("un fichier").
NUMBER_IN_THE_WORDS = {"zero", "one", "two"}


def placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def same_as_english(language: str, same: Path) -> set[str]:
    """The keys reviewed as written as in English in `language`: `key  # why` per line."""
    path = same / f"{language}.txt"
    if not path.exists():
        return set()
    lines = (line.split("#")[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return {line for line in lines if line}


def problems_of(language: str, locales: Path = LOCALES, same: Path = SAME) -> list[str]:
    english_pack = read_pack("en", locales)
    pack = read_pack(language, locales)
    base = base_language(language)
    forms = PLURAL_FORMS[base]
    problems = []
    if language == base:
        problems += [f"missing key {key}" for key in english_pack if key not in pack]
    problems += [f"extra key {key}" for key in pack if key not in english_pack]
    reviewed = same_as_english(language, same)
    parent = read_pack(base, locales) if language != base else {}
    for key, message in pack.items():
        english = english_pack.get(key)
        if english is None:
            continue
        if isinstance(english, dict) != isinstance(message, dict):
            problems.append(f"{key}: {'a plural object' if isinstance(english, dict) else 'a string'} in English")
            continue
        if language != base and message == parent.get(key):
            problems.append(f"{key}: the same as {base}; leave it out of the regional pack")
        if isinstance(message, dict):
            if set(message) != set(forms):
                problems.append(f"{key}: plural forms {sorted(message)}, {base} needs {sorted(forms)}")
            needed = placeholders(english["other"])
            texts = list(message.items())
        else:
            needed = placeholders(english)
            texts = [("", message)]
        for form, text in texts:
            where = f"{key}.{form}" if form else key
            if not isinstance(text, str) or not text.strip():
                problems.append(f"{where}: empty")
                continue
            try:
                found = placeholders(text)
            except ValueError as error:
                problems.append(f"{where}: {error} in {text!r}")
                continue
            expected = needed - ({"count"} if form in NUMBER_IN_THE_WORDS else set())
            if not expected <= found <= needed:
                problems.append(f"{where}: placeholders {sorted(found)}, English has {sorted(needed)}")
        english_texts = set(english.values()) if isinstance(english, dict) else {english}
        if key not in reviewed and any(text in english_texts for _, text in texts):
            problems.append(f"{key}: left in English (if {language} writes it so, list it in "
                            f"tests/locales_same/{language}.txt with why)")
    units = full_pack(language, locales)["size.units"].split()
    if len(units) != len(english_pack["size.units"].split()):
        problems.append(f"size.units: {len(units)} units, English has {len(english_pack['size.units'].split())}")
    problems += [f"{key}: reviewed as English but not in English" for key in reviewed
                 if key in pack and not _is_english(english_pack[key], pack[key])]
    return problems


def _is_english(english: object, message: object) -> bool:
    texts = set(english.values()) if isinstance(english, dict) else {english}
    values = message.values() if isinstance(message, dict) else [message]
    return any(value in texts for value in values)


def test_the_packs_are_those_of_the_list():
    assert sorted(path.stem for path in LOCALES.glob("*.json")) == sorted(LANGUAGES)


def test_every_base_language_has_its_plural_forms():
    assert {base_language(language) for language in LANGUAGES} == set(PLURAL_FORMS)


@pytest.mark.parametrize("language", OTHERS)
def test_the_pack_is_whole_and_translated(language):
    assert problems_of(language) == []


@pytest.mark.parametrize("language", REGIONAL)
def test_a_regional_pack_falls_back_to_its_base_language_then_english(language):
    pack = read_pack(language, LOCALES)
    base = read_pack(base_language(language), LOCALES)
    full = full_pack(language, LOCALES)
    assert set(full) == set(EN)
    for key in EN:
        assert full[key] == pack.get(key, base.get(key, EN[key])), key


def test_the_reviewed_lists_name_packs_that_exist():
    assert {path.stem for path in SAME.glob("*.txt")} <= set(OTHERS)


def test_a_regional_pack_that_leaves_a_key_out_takes_its_base_languages(tmp_path):
    (tmp_path / "en.json").write_text(json.dumps({"a": "A", "b": "B", "c": "C"}))
    (tmp_path / "es.json").write_text(json.dumps({"a": "a-es", "b": "b-es"}))
    (tmp_path / "es_mx.json").write_text(json.dumps({"a": "a-mx"}))
    catalog = load_catalog("es_mx", tmp_path)
    assert [catalog.t(key) for key in "abc"] == ["a-mx", "b-es", "C"]


def test_the_checker_finds_each_kind_of_problem(tmp_path):
    # The checker above must fail on what it says it fails on: a pack with one of each problem.
    english = {"t": "Hello {name}", "n": {"one": "{count} file", "other": "{count} files"}, "x": "Close",
               "size.units": "B KB MB GB TB"}
    (tmp_path / "en.json").write_text(json.dumps(english))
    (tmp_path / "pl.json").write_text(json.dumps({
        "t": "Cześć {nme}", "n": {"one": "plik", "few": "{count} pliki", "other": "{count} plików"},
        "x": "Close", "y": "extra", "size.units": "B KB MB GB"}))
    found = "\n".join(problems_of("pl", tmp_path, tmp_path))
    assert "t: placeholders ['nme'], English has ['name']" in found
    assert "n: plural forms ['few', 'one', 'other'], pl needs ['few', 'many', 'one', 'other']" in found
    assert "x: left in English" in found
    assert "extra key y" in found
    assert "size.units: 4 units" in found
    assert "missing key" not in found
    (tmp_path / "pl.txt").write_text("x  # the same word in Polish, for this test\n")
    assert not any(p.startswith("x:") for p in problems_of("pl", tmp_path, tmp_path))
