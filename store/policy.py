"""Filestack's security model: policies and signatures. Pure: no I/O, no clock (callers pass `now`).

A policy is a JSON object, sent as base64 text (URL-safe or standard alphabet, padded or not):

    {"expiry": 1767225600, "call": ["pick", "store"], "maxSize": 10485760, "path": "uploads/.*"}

Its signature is the lowercase hex HMAC-SHA256 of the policy text *exactly as sent* (the base64
text, not the JSON inside it), keyed with the app's secret. The store checks the signature first, in
constant time, and only then decodes the policy, so that nothing without a valid signature reaches
the JSON parser or the regular expression engine.

Rules, each checked only when the policy has it and the request has a value to check it against:

- `expiry` (required): Unix time in seconds. The policy is valid while `now < expiry`; at the
  expiry second itself it has expired.
- `call`: the calls allowed, among CALLS. Without `call`, every call is allowed (as at Filestack).
- `handle`: the one file handle the policy may act on (calls on an existing file; not `store`,
  which makes a new handle).
- `maxSize`, `minSize`: bounds in bytes, inclusive, on the size of a stored file.
- `path`: a regular expression that must match the WHOLE storage key the file is stored at (the
  Blob's `path`), as re.fullmatch does: "uploads/.*" allows anything under uploads/, "uploads/" alone
  allows nothing but that exact key. The key has no leading "/"; a pattern written with one
  ("/uploads/.*") matches too.
- `container`: a regular expression that must match the WHOLE container name (re.fullmatch).
- `url`: accepted for compatibility with Filestack policies; it restricts only transformations
  from external URLs, which this store does not do.

Any other field is refused (400): a rule the store does not know must not be silently ignored.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .errors import bad_request, forbidden

if TYPE_CHECKING:
    from .config import App

CALLS = ("pick", "read", "stat", "write", "writeUrl", "store", "convert", "remove")
FIELDS = ("expiry", "call", "handle", "url", "maxSize", "minSize", "path", "container")
MAX_POLICY_LENGTH = 8192
# Below this, the CLI's --expiry is seconds from now; from it on, a Unix time (2001-09-09).
RELATIVE_EXPIRY_LIMIT = 1_000_000_000

_BASE64 = re.compile(r"[A-Za-z0-9+/_-]*={0,2}")
_SIGNATURE = re.compile(r"[0-9a-fA-F]{64}")
HOW_TO_SIGN = (
    "the signature is the lowercase hex HMAC-SHA256 of the policy text exactly as sent (the base64 "
    "text, not the JSON inside it), keyed with the app's secret"
)


@dataclass(frozen=True)
class Policy:
    expiry: float
    call: tuple[str, ...] | None = None
    handle: str | None = None
    max_size: int | None = None
    min_size: int | None = None
    path: str | None = None
    container: str | None = None
    url: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.expiry, bool) or not isinstance(self.expiry, (int, float)) or not math.isfinite(self.expiry):
            raise bad_request(f"policy expiry must be a Unix time in seconds, not {self.expiry!r}")
        if self.call is not None:
            unknown = [c for c in self.call if c not in CALLS]
            if unknown:
                raise bad_request(
                    f"policy call {unknown[0]!r} is not a call this store knows; calls: {', '.join(CALLS)}"
                )
        for name, value in (("handle", self.handle), ("url", self.url)):
            if value is not None and not isinstance(value, str):
                raise bad_request(f"policy {name} must be a string, not {value!r}")
        for name, size in (("maxSize", self.max_size), ("minSize", self.min_size)):
            if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
                raise bad_request(f"policy {name} must be a whole number of bytes (0 or more), not {size!r}")
        for name, value in (("path", self.path), ("container", self.container)):
            if value is None:
                continue
            if not isinstance(value, str):
                raise bad_request(f"policy {name} must be a regular expression string, not {value!r}")
            try:
                re.compile(value)
            except re.error as exc:
                raise bad_request(f"policy {name} {value!r} is not a valid regular expression: {exc}") from None

    @classmethod
    def from_json(cls, data: Any) -> Policy:
        if not isinstance(data, dict):
            raise bad_request("the policy must be a JSON object such as {\"expiry\": 1767225600, \"call\": [\"store\"]}")
        unknown = sorted(set(data) - set(FIELDS))
        if unknown:
            raise bad_request(f"policy field {unknown[0]!r} is not supported; policy fields: {', '.join(FIELDS)}")
        if "expiry" not in data:
            raise bad_request("the policy has no expiry: every policy needs one (a Unix time in seconds)")
        call = data.get("call")
        if isinstance(call, str):
            call = [call]
        if call is not None and (not isinstance(call, list) or not all(isinstance(c, str) for c in call)):
            raise bad_request(f"policy call must be a list of call names, not {call!r}")
        return cls(
            expiry=data["expiry"],
            call=None if call is None else tuple(call),
            handle=data.get("handle"),
            max_size=data.get("maxSize"),
            min_size=data.get("minSize"),
            path=data.get("path"),
            container=data.get("container"),
            url=data.get("url"),
        )

    def to_json(self) -> dict[str, Any]:
        fields = {
            "expiry": self.expiry,
            "call": None if self.call is None else list(self.call),
            "handle": self.handle,
            "url": self.url,
            "maxSize": self.max_size,
            "minSize": self.min_size,
            "path": self.path,
            "container": self.container,
        }
        return {k: v for k, v in fields.items() if v is not None}

    def encode(self) -> str:
        """The policy text to send: URL-safe base64 (padded, as Filestack's SDKs make it) of compact JSON."""
        text = json.dumps(self.to_json(), separators=(",", ":"), allow_nan=False)
        return base64.urlsafe_b64encode(text.encode()).decode("ascii")

    # --- rules -----------------------------------------------------------------------------------

    def allows(self, call: str) -> bool:
        return self.call is None or call in self.call

    def check_call(self, call: str) -> None:
        if not self.allows(call):
            allowed = ", ".join(self.call or ()) or "no calls"
            raise forbidden(f"policy does not allow call {call!r} (it allows: {allowed})")

    def check_expiry(self, now: float) -> None:
        if now >= self.expiry:
            try:
                when = datetime.fromtimestamp(self.expiry, UTC).isoformat(timespec="seconds")
            except (OverflowError, OSError, ValueError):
                when = "a time out of range"
            raise forbidden(f"policy expired at {when} (expiry {self.expiry}); make a new policy")

    def check_handle(self, handle: str | None) -> None:
        if self.handle is not None and handle is not None and handle != self.handle:
            raise forbidden(f"handle {handle!r} is not the policy's handle {self.handle!r}")

    def check_max_size(self, size: int) -> None:
        """The maxSize rule alone: an upload can fail it before its last byte arrives."""
        if self.max_size is not None and size > self.max_size:
            raise forbidden(f"size {size} is above the policy's maxSize {self.max_size}")

    def check_size(self, size: int | None) -> None:
        if size is None:
            return
        self.check_max_size(size)
        if self.min_size is not None and size < self.min_size:
            raise forbidden(f"size {size} is below the policy's minSize {self.min_size}")

    def check_path(self, path: str | None) -> None:
        if self.path is None or path is None:
            return
        if not (re.fullmatch(self.path, path) or re.fullmatch(self.path, "/" + path)):
            raise forbidden(
                f"path {path!r} does not match the policy's path {self.path!r} (the whole path must match)"
            )

    def check_container(self, container: str | None) -> None:
        if self.container is None or container is None:
            return
        if not re.fullmatch(self.container, container):
            raise forbidden(
                f"container {container!r} does not match the policy's container {self.container!r}"
                " (the whole name must match)"
            )

    def enforce(
        self,
        *,
        call: str,
        now: float,
        handle: str | None = None,
        size: int | None = None,
        path: str | None = None,
        container: str | None = None,
    ) -> None:
        """Every rule, in a fixed order; the first that fails raises StoreError 403 naming it."""
        self.check_expiry(now)
        self.check_call(call)
        self.check_handle(handle)
        self.check_size(size)
        self.check_path(path)
        self.check_container(container)


# --- text, signatures ------------------------------------------------------------------------------


def _as_sent(policy_text: str) -> str:
    # An unescaped "+" of standard base64 reaches a query string's parser as a space; no base64
    # alphabet has a space, so a space can only be that "+".
    return policy_text.replace(" ", "+")


def decode_policy(text: str) -> Policy:
    """A policy from its base64 text: URL-safe or standard alphabet, with or without padding."""
    text = _as_sent(text)
    if len(text) > MAX_POLICY_LENGTH:
        raise bad_request(f"the policy is longer than {MAX_POLICY_LENGTH} characters")
    if not text or not _BASE64.fullmatch(text) or len(text.rstrip("=")) % 4 == 1:
        raise bad_request("the policy is not base64 (URL-safe or standard) text of a JSON object")
    body = text.rstrip("=").replace("-", "+").replace("_", "/")
    try:
        raw = base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
        data = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise bad_request(f"the policy is base64 but not of a JSON object: {exc}") from None
    return Policy.from_json(data)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number a policy may hold")


def sign(policy_text: str, secret: str) -> str:
    """Lowercase hex HMAC-SHA256 of the policy text as sent, keyed with the app secret."""
    return hmac.new(secret.encode("utf-8"), policy_text.encode("utf-8"), hashlib.sha256).hexdigest()


def verify_signature(policy_text: str, signature: str, secret: str) -> None:
    if not _SIGNATURE.fullmatch(signature.strip()):
        raise bad_request(f"the signature must be 64 hexadecimal digits: {HOW_TO_SIGN}")
    expected = sign(_as_sent(policy_text), secret).encode("ascii")
    if not hmac.compare_digest(expected, signature.strip().lower().encode("ascii")):
        raise forbidden(f"the signature does not match the policy: {HOW_TO_SIGN}")


def check(
    app: App,
    policy_text: str | None,
    signature: str | None,
    *,
    call: str,
    now: float,
    handle: str | None = None,
    size: int | None = None,
    path: str | None = None,
    container: str | None = None,
) -> Policy | None:
    """The request's policy, verified and enforced for `call`; None when the request has none and the
    app does not require one. 400 for missing or malformed parts, 403 for a refused request."""
    policy_text = policy_text or None
    signature = signature or None
    if policy_text is None and signature is None:
        if app.require_security:
            raise bad_request(
                "this app requires a policy and signature: pass `policy` and `signature` with the request"
                f" (make them with `python -m store policy --key {app.key} --call {call} ...`)"
            )
        return None
    if signature is None:
        raise bad_request("a policy was given without a signature: pass both `policy` and `signature`")
    if policy_text is None:
        raise bad_request("a signature was given without a policy: pass both `policy` and `signature`")
    if len(policy_text) > MAX_POLICY_LENGTH:
        raise bad_request(f"the policy is longer than {MAX_POLICY_LENGTH} characters")
    verify_signature(policy_text, signature, app.secret)
    policy = decode_policy(policy_text)
    policy.enforce(call=call, now=now, handle=handle, size=size, path=path, container=container)
    return policy


def make_policy(
    *,
    expiry: float,
    call: Iterable[str] | None = None,
    handle: str | None = None,
    max_size: int | None = None,
    min_size: int | None = None,
    path: str | None = None,
    container: str | None = None,
) -> Policy:
    """A validated policy (StoreError 400 for a bad rule); `.encode()` gives the text to sign."""
    return Policy(
        expiry=expiry,
        call=None if call is None else tuple(call),
        handle=handle,
        max_size=max_size,
        min_size=min_size,
        path=path,
        container=container,
    )


def signed(policy: Policy, secret: str) -> dict[str, str]:
    """{"policy": text, "signature": hex}: what a site's server hands its pages."""
    text = policy.encode()
    return {"policy": text, "signature": sign(text, secret)}


def resolve_expiry(value: float, now: float) -> float:
    """The CLI's --expiry: seconds from now below RELATIVE_EXPIRY_LIMIT, a Unix time from it on."""
    if value < RELATIVE_EXPIRY_LIMIT:
        return int(now + value)
    return int(value) if value == int(value) else value


__all__ = [
    "CALLS",
    "Policy",
    "check",
    "decode_policy",
    "make_policy",
    "resolve_expiry",
    "sign",
    "signed",
    "verify_signature",
]
