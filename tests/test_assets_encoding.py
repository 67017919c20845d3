"""The runtime and our own files over HTTP from a real store process: compressed by the
Accept-Encoding the client sends, the runtime at versioned URLs cached as immutable, our own files
revalidated by ETag, and no stale bytes at an unversioned or old URL."""

from __future__ import annotations

import gzip
import io
import os
import zipfile
from collections.abc import Iterator

import httpx
import pytest

from harness.store_process import Store
from store.precompress import RUNTIME, copy_path, make_copies, runtime_version

PYODIDE = runtime_version("pyodide")
PYSCRIPT = runtime_version("pyscript")
WASM = f"/vendor/pyodide/{PYODIDE}/pyodide.asm.wasm"
IMMUTABLE = "public, max-age=31536000, immutable"


@pytest.fixture(scope="module")
def client(store: Store) -> Iterator[httpx.Client]:
    make_copies()  # what `make setup` does; nothing when they are there
    # httpx would decode the body itself: here the raw bytes are what is checked.
    with httpx.Client(base_url=store.url, timeout=30) as http:
        yield http


def raw(client: httpx.Client, path: str, encoding: str | None, **headers: str) -> httpx.Response:
    sent = {"Accept-Encoding": encoding or "identity", **headers}
    with client.stream("GET", path, headers=sent) as response:
        response.raw_body = b"".join(response.iter_raw())  # type: ignore[attr-defined]
    return response


def vary(response: httpx.Response) -> set[str]:
    return {token.strip().lower() for token in response.headers.get("vary", "").split(",")}


@pytest.mark.parametrize("accept", ["gzip", "br, gzip, deflate", "gzip;q=0.5, identity;q=0.1", "*"])
def test_runtime_gzipped_when_accepted(client: httpx.Client, accept: str) -> None:
    original = (RUNTIME["pyodide"] / "pyodide.asm.wasm").read_bytes()
    response = raw(client, WASM, accept)
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in vary(response)
    assert int(response.headers["content-length"]) == len(response.raw_body)  # type: ignore[attr-defined]
    assert len(response.raw_body) < len(original) * 0.45  # type: ignore[attr-defined]
    assert gzip.decompress(response.raw_body) == original  # type: ignore[attr-defined]
    assert response.headers["content-type"] == "application/wasm"


@pytest.mark.parametrize("accept", [None, "br", "gzip;q=0", "deflate"])
def test_runtime_identity_when_gzip_not_accepted(client: httpx.Client, accept: str | None) -> None:
    original = (RUNTIME["pyodide"] / "pyodide.asm.mjs").read_bytes()
    response = raw(client, f"/vendor/pyodide/{PYODIDE}/pyodide.asm.mjs", accept)
    assert response.status_code == 200
    assert "content-encoding" not in response.headers
    assert "accept-encoding" in vary(response)
    assert int(response.headers["content-length"]) == len(original)
    assert response.raw_body == original  # type: ignore[attr-defined]
    assert response.headers["content-type"].startswith("text/javascript")


def test_runtime_versioned_urls_are_immutable(client: httpx.Client) -> None:
    for path in (WASM, f"/vendor/pyodide/{PYODIDE}/python_stdlib.zip", f"/vendor/pyscript/{PYSCRIPT}/core.js"):
        for accept in ("gzip", None):
            response = raw(client, path, accept)
            assert response.status_code == 200, path
            assert response.headers["cache-control"] == IMMUTABLE, path


def test_runtime_representations_have_their_own_etag(client: httpx.Client) -> None:
    packed, plain = raw(client, WASM, "gzip"), raw(client, WASM, None)
    assert packed.headers["etag"] != plain.headers["etag"]
    again = raw(client, WASM, "gzip", **{"If-None-Match": packed.headers["etag"]})
    assert again.status_code == 304 and again.raw_body == b""  # type: ignore[attr-defined]
    # The gzip copy's tag does not validate the identity bytes.
    assert raw(client, WASM, None, **{"If-None-Match": packed.headers["etag"]}).status_code == 200


def test_unversioned_runtime_url_redirects_to_the_current_version_uncached(client: httpx.Client) -> None:
    response = client.get("/vendor/pyodide/pyodide.mjs")
    assert response.status_code == 302
    assert response.headers["location"] == f"/vendor/pyodide/{PYODIDE}/pyodide.mjs"
    assert response.headers["cache-control"] == "no-store"
    followed = client.get("/vendor/pyscript/core.js", follow_redirects=True)
    assert str(followed.url).endswith(f"/vendor/pyscript/{PYSCRIPT}/core.js")
    assert followed.content == (RUNTIME["pyscript"] / "core.js").read_bytes()


@pytest.mark.parametrize("path", ["/vendor/pyodide/0.27.0/pyodide.mjs", "/vendor/pyscript/0.6.1/core.js",
                                  f"/vendor/pyodide/{PYODIDE}/no-such-file.js", f"/vendor/pyodide/{PYODIDE}/%2E%2E/%2E%2E/package.json",
                                  f"/vendor/pyodide/{PYODIDE}/"])
def test_old_versions_and_unknown_files_are_not_found(client: httpx.Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert "immutable" not in response.headers.get("cache-control", "")


def test_a_stale_compressed_copy_is_not_served(client: httpx.Client) -> None:
    """A copy made from an earlier state of its file (an upgrade or a reinstall since the set-up)
    is passed over: the browser gets the file's current bytes."""
    name = "pyodide-lock.json"
    copy = copy_path("pyodide", name, "gzip")
    original = (RUNTIME["pyodide"] / name).read_bytes()
    stat = copy.stat()
    os.utime(copy, ns=(stat.st_atime_ns, stat.st_mtime_ns - 10**9))
    try:
        response = raw(client, f"/vendor/pyodide/{PYODIDE}/{name}", "gzip")
        assert "content-encoding" not in response.headers
        assert response.raw_body == original  # type: ignore[attr-defined]
    finally:
        os.utime(copy, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert raw(client, f"/vendor/pyodide/{PYODIDE}/{name}", "gzip").headers["content-encoding"] == "gzip"


@pytest.mark.parametrize("path", ["/static/filepicker.js", "/picker.zip", "/pyscript.toml", "/"])
def test_own_files_compressed_and_revalidated(client: httpx.Client, path: str) -> None:
    plain = raw(client, path, None)
    packed = raw(client, path, "gzip, br")
    assert plain.status_code == packed.status_code == 200
    assert "content-encoding" not in plain.headers
    assert packed.headers["content-encoding"] == "gzip"
    assert gzip.decompress(packed.raw_body) == plain.raw_body  # type: ignore[attr-defined]
    assert int(packed.headers["content-length"]) == len(packed.raw_body) < len(plain.raw_body)  # type: ignore[attr-defined]
    for response in (plain, packed):
        assert response.headers["cache-control"] == "no-cache"
        assert "accept-encoding" in vary(response)
        etag = response.headers["etag"]
        encoding = response.headers.get("content-encoding")
        again = raw(client, path, encoding, **{"If-None-Match": f'W/"other", {etag}'})
        assert again.status_code == 304 and again.raw_body == b""  # type: ignore[attr-defined]
        assert again.headers["etag"] == etag
        assert raw(client, path, encoding, **{"If-None-Match": '"other"'}).status_code == 200


def test_loader_and_config_ask_for_the_versioned_runtime(client: httpx.Client, store: Store) -> None:
    loader = client.get("/static/filepicker.js").text
    assert f'"vendor/pyscript/{PYSCRIPT}/core.js"' in loader
    assert '"vendor/pyscript/core.js"' not in loader
    config = client.get("/pyscript.toml").text
    assert f'interpreter = "{store.url}/vendor/pyodide/{PYODIDE}/pyodide.mjs"' in config


def test_picker_archive_holds_the_picker(client: httpx.Client) -> None:
    archive = zipfile.ZipFile(io.BytesIO(client.get("/picker.zip").content))
    names = archive.namelist()
    assert "picker/main.py" in names and "locales/en.json" in names
    assert archive.read("picker/main.py") == (RUNTIME["pyodide"].parents[1] / "picker" / "main.py").read_bytes()
