"""A file's real type from its first bytes, and sizes in human units."""

import pytest

from harness.images import png
from picker.i18n import human_size
from picker.sniff import real_type, sniff

UNITS = ["B", "KB", "MB", "GB", "TB"]


@pytest.mark.parametrize(
    "head, mimetype",
    [
        (png(1, 1, (0, 0, 0))[:32], "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        (b"GIF89a\x01\x00", "image/gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", "audio/wav"),
        (b"%PDF-1.7\n", "application/pdf"),
        (b"PK\x03\x04\x14\x00", "application/zip"),
        (b"\x00\x00\x00\x18ftypisom", "video/mp4"),
        (b"\x00\x00\x00\x18ftypheic", "image/heic"),
    ],
)
def test_known_signatures_give_their_type(head, mimetype):
    assert sniff(head) == mimetype


def test_unknown_bytes_give_no_type():
    assert sniff(b"hello world") is None
    assert sniff(b"") is None


def test_a_specific_browser_type_is_kept_even_when_the_bytes_disagree():
    assert real_type("text/plain", b"%PDF-1.7") == "text/plain"


@pytest.mark.parametrize("declared", ["", "application/octet-stream"])
def test_a_missing_or_generic_type_is_replaced_by_the_sniffed_one(declared):
    assert real_type(declared, b"%PDF-1.4") == "application/pdf"
    assert real_type(declared, b"plain text") == "application/octet-stream"


@pytest.mark.parametrize(
    "size, text",
    [(0, "0 B"), (1023, "1023 B"), (1024, "1 KB"), (1536, "1.5 KB"), (10 * 1024 * 1024, "10 MB"),
     (int(2.25 * 1024**3), "2.2 GB"), (5 * 1024**4, "5 TB"), (3 * 1024**5, "3072 TB")],
)
def test_sizes_are_shown_in_powers_of_1024(size, text):
    assert human_size(size, UNITS) == text
