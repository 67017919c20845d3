"""The picker and the store agree on Upload-Metadata: what the picker's upload engine sends for a
pick's store options, the store reads back as the same options."""

from __future__ import annotations

from picker import wire
from picker.engine import Request, Upload
from picker.options import parse_call
from picker.upload import upload_metadata
from store import store_request
from store.store_request import StoreRequest
from store.tus_protocol import parse_metadata

EVERY_OPTION = [
    {"policy": "eyJleHBpcnkiOjF9", "signature": "abc123", "multiple": True},
    {"location": "S3", "path": "photos/", "storeContainer": "pics", "storeRegion": "eu-west-1", "access": "public"},
]


def sent_metadata(api_key: str, args: list, filename: str, mimetype: str) -> str:
    """The Upload-Metadata header of the creation the picker's engine sends for one picked file."""
    metadata = upload_metadata(api_key, parse_call("pickAndStore", args))
    creation = Upload("http://store/api/upload", filename, mimetype, 10, metadata=metadata).next_action()
    assert isinstance(creation, Request) and creation.method == "POST"
    return creation.headers["Upload-Metadata"]


def test_the_store_reads_every_option_the_picker_sends():
    header = sent_metadata("demo", EVERY_OPTION, "résumé, final.pdf", "application/pdf")
    assert store_request.from_metadata(parse_metadata(header)) == StoreRequest(
        api_key="demo", location="S3", container="pics", filename="résumé, final.pdf", path="photos/",
        mimetype="application/pdf", multiple=True, policy="eyJleHBpcnkiOjF9", signature="abc123",
        region="eu-west-1", access="public",
    )


def test_options_the_page_did_not_set_reach_the_store_unset():
    header = sent_metadata("demo", [{}, {}], "a.txt", "text/plain")
    assert store_request.from_metadata(parse_metadata(header)) == StoreRequest(
        api_key="demo", filename="a.txt", mimetype="text/plain"
    )


def test_every_key_the_picker_sends_is_a_key_of_the_wire_schema():
    header = sent_metadata("demo", EVERY_OPTION, "a.pdf", "application/pdf")
    assert set(parse_metadata(header)) == set(wire.KEYS)
