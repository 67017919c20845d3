"""Which files a pick accepts (picker/restrictions.py, pure CPython)."""

from __future__ import annotations

from pathlib import Path

import pytest

from picker.i18n import human_size, load_catalog
from picker.options import PickerOptions, parse_picker_options
from picker.restrictions import (
    DroppedEntry,
    PickedFile,
    accept_attribute,
    folder_refusal,
    is_accepted,
    mimetype_matches,
    rejection,
)

LOCALES = Path(__file__).resolve().parent.parent / "locales"
ENGLISH = load_catalog("en", LOCALES)


def file(name: str, mimetype: str = "", size: int = 10) -> PickedFile:
    return PickedFile(name=name, size=size, mimetype=mimetype)


# --- accept_attribute ---------------------------------------------------------------------------


def test_accept_attribute_is_empty_without_restrictions():
    assert accept_attribute(PickerOptions()) == ""


def test_accept_attribute_lists_mimetypes_comma_separated():
    options = parse_picker_options({"mimetypes": ["image/*", "application/pdf"]})
    assert accept_attribute(options) == "image/*,application/pdf"


def test_accept_attribute_lists_normalised_extensions():
    options = parse_picker_options({"extensions": ["PDF", ".Txt"]})
    assert accept_attribute(options) == ".pdf,.txt"


# --- mimetype_matches ---------------------------------------------------------------------------


@pytest.mark.parametrize("mimetype", ["image/png", "image/jpeg", "image/svg+xml"])
def test_a_wildcard_subtype_matches_every_subtype_of_its_type(mimetype):
    assert mimetype_matches("image/*", mimetype) is True


@pytest.mark.parametrize("mimetype", ["text/plain", "application/pdf", "imagex/png", "video/image"])
def test_a_wildcard_subtype_does_not_match_other_types(mimetype):
    assert mimetype_matches("image/*", mimetype) is False


@pytest.mark.parametrize("pattern", ["*/*", "*"])
@pytest.mark.parametrize("mimetype", ["image/png", "application/octet-stream", ""])
def test_the_catch_all_patterns_match_anything(pattern, mimetype):
    assert mimetype_matches(pattern, mimetype) is True


def test_an_exact_mimetype_matches_only_itself():
    assert mimetype_matches("application/pdf", "application/pdf") is True
    assert mimetype_matches("application/pdf", "application/pdfx") is False
    assert mimetype_matches("application/pdf", "application/msword") is False


@pytest.mark.parametrize("pattern, mimetype", [
    ("IMAGE/*", "image/png"), ("image/*", "Image/PNG"), ("Application/PDF", "application/pdf"),
])
def test_matching_is_case_insensitive(pattern, mimetype):
    assert mimetype_matches(pattern, mimetype) is True


@pytest.mark.parametrize("pattern", ["image/*", "application/pdf"])
@pytest.mark.parametrize("mimetype", ["", None])
def test_an_unknown_mimetype_matches_no_specific_pattern(pattern, mimetype):
    # Browsers give File.type "" when they cannot tell the type.
    assert mimetype_matches(pattern, mimetype) is False


# --- is_accepted --------------------------------------------------------------------------------


def test_without_restrictions_every_file_is_accepted():
    assert is_accepted(PickerOptions(), file("anything.exe", "application/x-msdownload")) is True
    assert is_accepted(PickerOptions(), file("noext", "")) is True


def test_accepted_by_any_of_the_mimetypes():
    options = parse_picker_options({"mimetypes": ["image/*", "application/pdf"]})
    assert is_accepted(options, file("a.png", "image/png")) is True
    assert is_accepted(options, file("a.pdf", "application/pdf")) is True
    assert is_accepted(options, file("a.txt", "text/plain")) is False


def test_mimetype_restriction_ignores_the_file_name():
    options = parse_picker_options({"mimetype": "image/*"})
    assert is_accepted(options, file("looks-like.png", "text/plain")) is False
    assert is_accepted(options, file("no-extension", "image/png")) is True


def test_mimetype_restriction_refuses_a_file_of_unknown_type():
    options = parse_picker_options({"mimetype": "image/*"})
    assert is_accepted(options, file("mystery.png", "")) is False


def test_accepted_by_any_of_the_extensions():
    options = parse_picker_options({"extensions": [".pdf", "txt"]})
    assert is_accepted(options, file("report.pdf")) is True
    assert is_accepted(options, file("notes.txt")) is True
    assert is_accepted(options, file("photo.png")) is False


def test_extension_matching_is_case_insensitive():
    options = parse_picker_options({"extension": ".PDF"})
    assert is_accepted(options, file("REPORT.Pdf")) is True


def test_extension_restriction_ignores_the_mimetype():
    options = parse_picker_options({"extension": ".pdf"})
    assert is_accepted(options, file("report.pdf", "application/octet-stream")) is True
    assert is_accepted(options, file("report.png", "application/pdf")) is False


def test_an_extension_must_be_the_end_of_the_name_after_a_dot():
    options = parse_picker_options({"extension": "pdf"})
    assert is_accepted(options, file("pdf")) is False
    assert is_accepted(options, file("notapdf")) is False
    assert is_accepted(options, file("report.pdf.exe")) is False


def test_multi_part_extensions():
    options = parse_picker_options({"extension": ".tar.gz"})
    assert is_accepted(options, file("backup.tar.gz")) is True
    assert is_accepted(options, file("backup.gz")) is False


# --- dropped folders ----------------------------------------------------------------------------

FOLDERS_ON = parse_picker_options({"folders": True, "multiple": True})


def test_a_dropped_folder_is_refused_naming_it_when_folders_are_off():
    dropped = [DroppedEntry("album", True), DroppedEntry("a.png", False)]
    assert folder_refusal(PickerOptions(), dropped, ENGLISH.t) == "Folders cannot be picked here: album is a folder."


def test_every_dropped_folder_is_named():
    dropped = [DroppedEntry("2025", True), DroppedEntry("2026", True)]
    assert folder_refusal(PickerOptions(), dropped, ENGLISH.t) == "Folders cannot be picked here: 2025, 2026 are folders."


def test_folders_asked_for_without_multiple_are_still_refused():
    options = parse_picker_options({"folders": True})
    assert folder_refusal(options, [DroppedEntry("album", True)], ENGLISH.t) is not None


@pytest.mark.parametrize("options", [PickerOptions(), FOLDERS_ON])
def test_a_drop_of_files_only_is_not_refused(options):
    assert folder_refusal(options, [DroppedEntry("a.png", False), DroppedEntry("b", False)], ENGLISH.t) is None
    assert folder_refusal(options, [], ENGLISH.t) is None


def test_folders_are_taken_when_folders_are_on():
    assert folder_refusal(FOLDERS_ON, [DroppedEntry("album", True), DroppedEntry("a.png", False)], ENGLISH.t) is None


# --- sizes in the user's units ------------------------------------------------------------------

UNITS = ["B", "KB", "MB", "GB", "TB"]


@pytest.mark.parametrize(
    "size, text",
    [(0, "0 B"), (1023, "1023 B"), (1024, "1 KB"), (1536, "1.5 KB"), (2048, "2 KB"), (10 * 1024 * 1024, "10 MB"),
     (15 * 1024 * 1024 + 1, "15 MB"), (3 * 1024**3, "3 GB"), (5 * 1024**5, "5120 TB")],
)
def test_human_size(size, text):
    assert human_size(size, UNITS) == text


# --- rejection ----------------------------------------------------------------------------------


def rejected(options: dict, files: list[PickedFile], method: str = "pickAndStore") -> str | None:
    return rejection(parse_picker_options(options, method), files, ENGLISH.t)


def test_a_selection_within_every_rule_is_not_rejected():
    options = {"multiple": True, "maxFiles": 2, "mimetype": "image/*", "maxSize": 100}
    assert rejected(options, [file("a.png", "image/png", 100), file("b.png", "image/png", 1)]) is None


def test_several_files_where_one_is_asked_for_are_rejected_counting_them():
    assert rejected({}, [file("a.png"), file("b.png")]) == "Only one file can be picked here: you chose 2."


@pytest.mark.parametrize("limit, message", [
    (1, "You can pick at most 1 file here: you chose 3."),
    (2, "You can pick at most 2 files here: you chose 3."),
])
def test_more_files_than_max_files_are_rejected_naming_the_limit(limit, message):
    assert rejected({"maxFiles": limit}, [file("a"), file("b"), file("c")], method="pickMultiple") == message


def test_files_of_other_types_are_rejected_naming_them_and_what_is_accepted():
    chosen = [file("a.png", "image/png"), file("notes.txt", "text/plain"), file("data.json", "application/json")]
    assert rejected({"mimetypes": ["image/*", "application/pdf"]}, chosen, method="pickMultiple") == (
        "The types of notes.txt, data.json are not accepted here. Accepted: image/*, application/pdf."
    )


def test_files_larger_than_max_size_are_rejected_naming_the_limit_in_units():
    chosen = [file("big.bin", size=2049), file("small.bin", size=2048)]
    assert rejected({"maxSize": 2048}, chosen, method="pickMultiple") == (
        "big.bin is larger than 2 KB, the largest file you can pick here."
    )


def test_the_count_is_told_before_the_types_and_sizes():
    chosen = [file("a.txt", "text/plain", 10**9), file("b.txt", "text/plain", 10**9)]
    assert rejected({"mimetype": "image/*", "maxSize": 1}, chosen) == "Only one file can be picked here: you chose 2."
    assert rejected({"mimetype": "image/*", "maxSize": 1}, chosen[:1]) == "The type of a.txt is not accepted here. Accepted: image/*."
