"""Files fetched over http and https: each hop's host resolved once and checked (store.remote), the
connection made to that address with the name in the Host header and, for https, as the server
name the certificate must match; at most MAX_REDIRECTS redirects, each checked again; connect, read
and total timeouts; the body streamed, never held whole."""

from __future__ import annotations

import asyncio
import contextlib
import email.message
import posixpath
import ssl
import time
from collections.abc import AsyncIterator, Sequence
from urllib.parse import unquote, urljoin, urlsplit

import httpx

from ..config import RemoteSettings
from ..errors import StoreError, bad_request
from . import Address, Entry, Network, RemoteFile, allowed_networks, resolve

MAX_REDIRECTS = 5
MAX_URL_LENGTH = 8192
REDIRECTS = {301, 302, 303, 307, 308}


def checked_url(url: str) -> tuple[str, str, int]:
    """The URL's scheme, host and port: StoreError 400 for anything but an http(s) URL with a host."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH:
        raise bad_request("url must be an http or https URL of at most 8192 characters")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as error:
        raise bad_request(f"url {url!r} is not a valid URL ({error})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise bad_request(f"url {url!r}: only http and https URLs can be imported, not {scheme or 'no scheme'!r}")
    if parts.username is not None or parts.password is not None:
        raise bad_request(f"url {url!r} carries a user name or password, which the store does not send")
    host = parts.hostname or ""
    if not host:
        raise bad_request(f"url {url!r} names no host")
    return scheme, host, port or (443 if scheme == "https" else 80)


def _pinned(url: str, address: Address, port: int) -> str:
    """`url` with its host replaced by the checked address."""
    parts = urlsplit(url)
    shown = f"[{address}]" if address.version == 6 else str(address)
    return parts._replace(netloc=f"{shown}:{port}").geturl()


def name_from_disposition(value: str | None) -> str:
    """The filename (filename* first) a Content-Disposition header gives, or ""."""
    if not value:
        return ""
    message = email.message.Message()
    message["content-disposition"] = value
    name = message.get_filename() or ""
    return posixpath.basename(name.replace("\\", "/")).strip()


def name_from_url(url: str) -> str:
    return posixpath.basename(unquote(urlsplit(url).path)).strip()


class HttpRemote:
    """http(s) URLs as a remote: `open(url)` gives the file after redirects; there are no folders."""

    def __init__(self, settings: RemoteSettings) -> None:
        self.settings = settings
        self.allowed: Sequence[Network] = allowed_networks(settings.allow)

    async def listing(self, path: str) -> Sequence[Entry]:
        raise bad_request("an http URL is a file, not a folder")

    @contextlib.asynccontextmanager
    async def open(self, path: str) -> AsyncIterator[RemoteFile]:
        settings = self.settings
        deadline = asyncio.get_running_loop().time() + settings.total_timeout
        timeout = httpx.Timeout(settings.read_timeout, connect=settings.connect_timeout)
        url = path
        try:
            verify: ssl.SSLContext | bool = True
            if settings.ca_file is not None:
                verify = ssl.create_default_context(cafile=settings.ca_file)
            async with httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False, verify=verify) as client:
                for hop in range(MAX_REDIRECTS + 1):
                    scheme, host, port = checked_url(url)
                    async with asyncio.timeout_at(deadline):
                        address = await resolve(host, port, self.allowed)
                    default_port = port == (443 if scheme == "https" else 80)
                    netloc = host if ":" not in host else f"[{host}]"
                    request = client.build_request(
                        "GET", _pinned(url, address, port),
                        headers={"Host": netloc if default_port else f"{netloc}:{port}", "Accept-Encoding": "identity"},
                        extensions={"sni_hostname": host} if scheme == "https" else {},
                    )
                    async with asyncio.timeout_at(deadline):
                        response = await client.send(request, stream=True)
                    try:
                        if response.status_code in REDIRECTS and "location" in response.headers:
                            if hop == MAX_REDIRECTS:
                                raise StoreError(502, f"{path!r} redirects more than {MAX_REDIRECTS} times")
                            url = urljoin(url, response.headers["location"])
                            continue
                        if response.status_code >= 300:
                            raise StoreError(
                                502, f"the remote server refused the file: it answered {response.status_code} "
                                f"{response.reason_phrase} for {url}".rstrip()
                            )
                        yield RemoteFile(
                            name=name_from_disposition(response.headers.get("content-disposition")) or name_from_url(url),
                            mimetype=response.headers.get("content-type"),
                            size=_length(response),
                            chunks=_body(response, deadline, url),
                        )
                        return
                    finally:
                        await response.aclose()
        except TimeoutError:
            raise StoreError(504, f"fetching {path!r} took longer than {settings.total_timeout:g} s") from None
        except httpx.TimeoutException as error:
            raise StoreError(504, f"the remote server for {url!r} did not answer in time ({type(error).__name__})") from None
        except httpx.HTTPError as error:
            raise StoreError(502, f"the remote server for {url!r} could not be reached or broke off ({error})") from None


def _length(response: httpx.Response) -> int | None:
    value = response.headers.get("content-length", "")
    encoded = response.headers.get("content-encoding", "identity").lower() not in ("", "identity")
    return int(value) if value.isdigit() and not encoded else None


async def _body(response: httpx.Response, deadline: float, url: str) -> AsyncIterator[bytes]:
    chunks = response.aiter_bytes()
    started = time.monotonic()
    while True:
        try:
            async with asyncio.timeout_at(deadline):
                chunk = await anext(chunks)
        except StopAsyncIteration:
            return
        except TimeoutError:
            raise StoreError(504, f"fetching {url!r} took too long ({time.monotonic() - started:.0f} s)") from None
        except httpx.TimeoutException:
            raise StoreError(504, f"the remote server for {url!r} stopped sending") from None
        except httpx.HTTPError as error:
            raise StoreError(502, f"the remote server for {url!r} broke off ({error})") from None
        if chunk:
            yield chunk
