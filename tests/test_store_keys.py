"""Unit tests of store.keys: where a file lands inside its container, whatever the client sends."""

from __future__ import annotations

import re

import pytest

from store.errors import StoreError
from store.keys import MAX_KEY, MAX_SEGMENT, new_handle, safe_filename, storage_key

HANDLE = "H" * 20


# --- storage_key ---------------------------------------------------------------------------------


def test_storage_key_without_path_is_handle_underscore_filename_at_root():
    assert storage_key(None, HANDLE, "photo.png") == f"{HANDLE}_photo.png"
    assert storage_key("", HANDLE, "photo.png") == f"{HANDLE}_photo.png"


def test_storage_key_with_folder_path_puts_file_inside_folder():
    assert storage_key("myfiles/", HANDLE, "photo.png") == f"myfiles/{HANDLE}_photo.png"
    assert storage_key("a/b/c/", HANDLE, "x.txt") == f"a/b/c/{HANDLE}_x.txt"


def test_storage_key_with_folder_path_is_allowed_with_multiple():
    assert storage_key("up/", HANDLE, "x.txt", multiple=True) == f"up/{HANDLE}_x.txt"


def test_storage_key_with_non_folder_path_is_exact_key():
    assert storage_key("exact/name.png", HANDLE, "ignored.jpg") == "exact/name.png"


def test_storage_key_exact_path_with_multiple_is_refused_400():
    with pytest.raises(StoreError) as info:
        storage_key("exact/name.png", HANDLE, "x.png", multiple=True)
    assert info.value.code == 400
    assert "/" in info.value.message and "exact/name.png" in info.value.message


def test_storage_key_drops_leading_slash_empty_and_dot_segments():
    assert storage_key("/etc/passwd", HANDLE, "x") == "etc/passwd"
    assert storage_key("a//./b/", HANDLE, "x") == f"a/b/{HANDLE}_x"


@pytest.mark.parametrize("path", ["../x", "a/../../b", "a/..", "../", "x/../y/"])
def test_storage_key_refuses_dotdot_segments(path):
    with pytest.raises(StoreError) as info:
        storage_key(path, HANDLE, "f.txt")
    assert info.value.code == 400
    assert ".." in info.value.message


@pytest.mark.parametrize("path", ["a\\b", "..\\evil", "a\x00b", "dir\x00/"])
def test_storage_key_refuses_nul_and_backslash(path):
    with pytest.raises(StoreError) as info:
        storage_key(path, HANDLE, "f.txt")
    assert info.value.code == 400


@pytest.mark.parametrize("path", ["a\nb", "dir\x01/", "x\x7fy"])
def test_storage_key_refuses_control_characters_in_path(path):
    with pytest.raises(StoreError) as info:
        storage_key(path, HANDLE, "f.txt")
    assert info.value.code == 400


def test_storage_key_refuses_segment_longer_than_255_bytes():
    with pytest.raises(StoreError) as info:
        storage_key("a" * (MAX_SEGMENT + 1), HANDLE, "f.txt")
    assert info.value.code == 400
    # exactly at the limit is fine
    assert storage_key("a" * MAX_SEGMENT, HANDLE, "f.txt") == "a" * MAX_SEGMENT


def test_storage_key_refuses_key_longer_than_max_key():
    path = "/".join(["d" * 200] * 6) + "/"  # every segment is legal, the whole is > 1024 bytes
    with pytest.raises(StoreError) as info:
        storage_key(path, HANDLE, "f.txt")
    assert info.value.code == 400
    assert str(MAX_KEY) in info.value.message


@pytest.mark.parametrize("path", [".", "./.", "//."])
def test_storage_key_exact_path_naming_no_file_is_refused(path):
    with pytest.raises(StoreError) as info:
        storage_key(path, HANDLE, "f.txt")
    assert info.value.code == 400


def test_storage_key_root_folder_path_puts_file_at_root():
    assert storage_key("/", HANDLE, "f.txt") == f"{HANDLE}_f.txt"


def test_storage_key_sanitises_filename_in_generated_key():
    key = storage_key("up/", HANDLE, "../../evil.txt")
    assert key == f"up/{HANDLE}_evil.txt"


# --- safe_filename -------------------------------------------------------------------------------

HOSTILE_NAMES = [
    "../../evil.txt",
    "..\\..\\evil",
    "/etc/passwd",
    "C:\\Windows\\system32\\cmd.exe",
    "",
    None,
    ".",
    "..",
    "...",
    ".hidden",
    "   ",
    "dir/",
    "dir\\",
    "a/..",
    "evil\x00.txt",
    "\x00",
    "\x00..",
    "new\nline\r.txt",
    "tab\there",
    "\x1b[31mred",
    "\x7f\x85\u200b\u2028",
    "x" * 1000,
    "y" * 1000 + ".png",
    "z" * 1000 + "." + "e" * 40,
    "é" * 600 + ".txt",
    "😀" * 300,
    "😀" * 300 + ".tar.gz",
    "e\u0301" * 200,  # decomposed characters, normalised to NFC
    "%2e%2e%2fevil",
    "CON",
    "..." * 100 + "/" + "." * 300,
]


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=lambda n: repr(n)[:40])
def test_safe_filename_result_is_a_single_safe_path_segment(name):
    safe = safe_filename(name)
    assert safe, "empty name"
    assert "/" not in safe
    assert "\\" not in safe
    assert "\x00" not in safe
    assert safe not in (".", "..")
    assert not safe.startswith(".")
    assert all(ch.isprintable() for ch in safe)
    assert len(safe.encode("utf-8")) <= MAX_SEGMENT


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=lambda n: repr(n)[:40])
def test_safe_filename_leaves_room_for_handle_prefix(name):
    """The key is "<handle>_<name>": that whole segment must still fit in 255 bytes."""
    key = storage_key(None, new_handle(), name)
    assert "/" not in key
    assert len(key.encode("utf-8")) <= MAX_SEGMENT


def test_safe_filename_keeps_ordinary_names_unchanged():
    for name in ["photo.png", "Résumé 2024.pdf", "日本語.txt", "a b c.tar.gz"]:
        assert safe_filename(name) == name


def test_safe_filename_keeps_last_component_only():
    assert safe_filename("../../evil.txt") == "evil.txt"
    assert safe_filename("..\\..\\evil") == "evil"
    assert safe_filename("C:\\Users\\me\\doc.pdf") == "doc.pdf"


def test_safe_filename_strips_leading_dots_and_control_characters():
    assert safe_filename(".hidden") == "hidden"
    assert safe_filename("evil\x00.txt") == "evil.txt"
    assert safe_filename("new\nline.txt") == "newline.txt"


def test_safe_filename_falls_back_to_file_when_nothing_is_left():
    for name in ["", None, ".", "..", "/", "\x00", "  ", "a/"]:
        assert safe_filename(name) == "file"


def test_safe_filename_truncation_keeps_short_extension():
    safe = safe_filename("y" * 1000 + ".png")
    assert safe.endswith(".png")
    assert safe.startswith("yyyy")
    assert len(safe.encode()) <= MAX_SEGMENT


def test_safe_filename_truncation_never_splits_a_multibyte_character():
    safe = safe_filename("😀" * 300 + ".txt")
    safe.encode("utf-8")  # would raise on a lone surrogate; decode(errors="ignore") must drop partial chars
    assert set(safe[:-4]) == {"😀"}
    assert safe.endswith(".txt")


def test_safe_filename_normalises_to_nfc():
    assert safe_filename("e\u0301.txt") == "\u00e9.txt"


# --- new_handle ----------------------------------------------------------------------------------


def test_new_handle_is_20_url_safe_characters():
    for _ in range(200):
        assert re.fullmatch(r"[A-Za-z0-9_-]{20}", new_handle())


def test_new_handles_are_unique():
    handles = {new_handle() for _ in range(2000)}
    assert len(handles) == 2000
