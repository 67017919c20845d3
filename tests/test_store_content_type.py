"""store.content_type: declared types normalised to one valid type, which types are served inline,
and the sniffer of first bytes."""

from __future__ import annotations

import pytest

from store.config import App
from store.content_type import check_sniffed, normalised_mimetype, served_inline, sniffed
from store.errors import StoreError


@pytest.mark.parametrize(("declared", "stored"), [
    ("image/png", "image/png"),
    ("IMAGE/PNG", "image/png"),
    ("  text/plain  ", "text/plain"),
    ("text/plain; charset=UTF-8", "text/plain; charset=utf-8"),
    ('text/plain;charset="utf-8"', "text/plain; charset=utf-8"),
    ("text/plain; format=flowed; charset=iso-8859-1", "text/plain; charset=iso-8859-1"),
    ("application/vnd.openxmlformats-officedocument.wordprocessingml.document",
     "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("image/svg+xml", "image/svg+xml"),
])
def test_a_declared_type_is_stored_as_one_lower_case_type(declared, stored):
    assert normalised_mimetype(declared) == stored


@pytest.mark.parametrize("declared", [
    "text/plain,text/html", "text/plain, text/html", "image/png;,text/html", "text/plain; charset=utf-8,text/html",
    "html", "text/", "/html", "text/html/x", "text /html", "text/ht ml", "", "text/plain; charset", "a/b\r\nX: y", "a/b\n",
    "imáge/png",
])
def test_a_list_or_garbage_is_refused_naming_it(declared):
    with pytest.raises(StoreError) as refused:
        normalised_mimetype(declared)
    assert refused.value.code == 400
    assert repr(declared) in refused.value.message


def test_a_charset_that_is_no_charset_name_is_dropped():
    assert normalised_mimetype('text/plain; charset="a b<script>"') == "text/plain"


@pytest.mark.parametrize("mimetype", ["image/png", "image/jpeg", "video/mp4", "audio/mpeg", "text/plain",
                                      "text/plain; charset=utf-8", "application/pdf", "IMAGE/GIF",
                                      "application/octet-stream"])
def test_media_plain_text_and_pdf_are_served_inline(mimetype):
    assert served_inline(mimetype)


@pytest.mark.parametrize("mimetype", ["text/html", "image/svg+xml", "application/xhtml+xml", "text/xml",
                                      "application/xml", "text/javascript", "application/x-msdownload",
                                      "text/plain,text/html", "multipart/x-mixed-replace", "text/css"])
def test_anything_else_is_served_as_an_attachment(mimetype):
    assert not served_inline(mimetype)


@pytest.mark.parametrize(("head", "found"), [
    (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "image/png"),
    (b"\xff\xd8\xff\xe0\0\x10JFIF", "image/jpeg"),
    (b"GIF89a\x01\0", "image/gif"),
    (b"RIFF\x24\0\0\0WEBPVP8 ", "image/webp"),
    (b"%PDF-1.7\n", "application/pdf"),
    (b"PK\x03\x04\x14\0", "application/zip"),
    (b"<!DOCTYPE html><p>x", "text/html"),
    (b"\n  <HTML><body>", "text/html"),
    (b"\xef\xbb\xbf<script>alert(1)</script>", "text/html"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'>", "image/svg+xml"),
    (b"<?xml version='1.0'?>\n<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml"),
    (b"<?xml version='1.0'?><html xmlns='http://www.w3.org/1999/xhtml'>", "text/html"),
    (b"<?xml version='1.0'?><x/>", "text/xml"),
])
def test_the_sniffer_knows_common_signatures(head, found):
    assert sniffed(head) == found


@pytest.mark.parametrize("head", [b"", b"hello, world", b"RIFF\0\0\0\0WAVE", b"\x89PNG", b"a <html> later"])
def test_bytes_of_no_known_signature_show_no_type(head):
    assert sniffed(head) is None


IMAGES = App(key="images", secret="s", mimetypes=("image/*",))
DOCUMENTS = App(key="documents", secret="s", mimetypes=(
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "application/epub+zip", "text/plain"))


@pytest.mark.parametrize(("app", "head", "declared"), [
    (IMAGES, b"<!doctype html><script>", "image/png"),
    (IMAGES, b"%PDF-1.4", "image/png"),
    (IMAGES, b"PK\x03\x04", "image/png"),
    (DOCUMENTS, b"<html><body>", "text/plain"),
    (DOCUMENTS, b"<?xml version='1.0'?><a/>", "text/plain"),
    (DOCUMENTS, b"PK\x03\x04", "text/plain"),
])
def test_bytes_of_a_type_the_app_refuses_are_refused_whatever_they_are_declared_as(app, head, declared):
    with pytest.raises(StoreError) as refused:
        check_sniffed(app, head, 10, declared)
    assert refused.value.code == 403


@pytest.mark.parametrize(("app", "head", "declared"), [
    (IMAGES, b"\x89PNG\r\n\x1a\n", "image/png"),
    (IMAGES, b"<svg xmlns='http://www.w3.org/2000/svg'>", "image/svg+xml"),
    (IMAGES, b"\0\0\0\x1cftypavif", "image/avif"),
    (DOCUMENTS, b"PK\x03\x04", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    (DOCUMENTS, b"PK\x03\x04", "application/epub+zip"),
    (DOCUMENTS, b"plain words", "text/plain"),
])
def test_bytes_the_app_accepts_pass(app, head, declared):
    check_sniffed(app, head, 10, declared)
