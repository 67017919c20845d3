"""Unit tests of store.policy: decoding, signing and every rule of Filestack's security model."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest

from store import config, policy
from store.config import App
from store.errors import StoreError
from store.policy import Policy, check, decode_policy, make_policy, resolve_expiry, sign, signed

SECRET = "app-secret-0123456789"
NOW = 1_800_000_000.0  # 2027-01-15T08:00:00Z
LATER = int(NOW) + 3600
APP = App(key="site", secret=SECRET)
SECURE = App(key="secure", secret=SECRET, require_security=True)


def compact(data: dict) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()


def urlsafe(data: dict, pad: bool = True) -> str:
    text = base64.urlsafe_b64encode(compact(data)).decode()
    return text if pad else text.rstrip("=")


def standard(data: dict, pad: bool = True) -> str:
    text = base64.b64encode(compact(data)).decode()
    return text if pad else text.rstrip("=")


def with_plus_and_slash() -> dict:
    """A policy whose standard base64 holds both '+' and '/' (and so differs from base64url)."""
    for n in range(200):
        data = {"expiry": LATER, "handle": "h" * (n % 5) + "?" * (n // 5 % 5) + ">" * (n // 25)}
        text = standard(data)
        if "+" in text and "/" in text:
            return data
    raise AssertionError("no such policy")


def refused(code: int, fn, *args, **kwargs) -> str:
    with pytest.raises(StoreError) as info:
        fn(*args, **kwargs)
    assert info.value.code == code, info.value.message
    assert SECRET not in info.value.message
    return info.value.message


def run(data: dict | str, app: App = APP, *, call: str = "store", now: float = NOW, **request) -> Policy | None:
    """check() with a correctly signed policy."""
    text = data if isinstance(data, str) else urlsafe(data)
    return check(app, text, sign(text, app.secret), call=call, now=now, **request)


# --- decoding ------------------------------------------------------------------------------------


@pytest.mark.parametrize("encode", [urlsafe, standard], ids=["base64url", "standard"])
@pytest.mark.parametrize("pad", [True, False], ids=["padded", "unpadded"])
def test_decode_accepts_both_alphabets_with_and_without_padding(encode, pad):
    data = {**with_plus_and_slash(), "call": ["store", "read"], "maxSize": 10, "path": "up/.*"}
    text = encode(data, pad)
    assert ("=" in text) is pad or len(compact(data)) % 3 == 0
    got = decode_policy(text)
    assert got == Policy(expiry=LATER, call=("store", "read"), handle=data["handle"], max_size=10, path="up/.*")


def test_decode_reads_a_space_as_the_plus_an_unescaped_query_string_turned_into_one():
    data = with_plus_and_slash()
    assert decode_policy(standard(data).replace("+", " ")).handle == data["handle"]


def test_decode_reads_every_field_with_filestack_names():
    data = {"expiry": LATER, "call": ["pick", "store"], "handle": "H", "url": "https://x/.*",
            "maxSize": 100, "minSize": 1, "path": "p/.*", "container": "c.*"}
    got = decode_policy(urlsafe(data))
    assert got == Policy(expiry=LATER, call=("pick", "store"), handle="H", max_size=100, min_size=1,
                         path="p/.*", container="c.*", url="https://x/.*")
    assert got.to_json() == data


def test_decode_accepts_a_single_call_name_as_a_list_of_one():
    assert decode_policy(urlsafe({"expiry": LATER, "call": "read"})).call == ("read",)


@pytest.mark.parametrize(
    "text, words",
    [
        ("", "base64"),
        ("not base64!", "base64"),
        ("abcde", "base64"),  # 5 characters: no base64 text has a length of 4n+1
        ("ab=c", "base64"),
        (base64.urlsafe_b64encode(b"not json").decode(), "JSON"),
        (base64.urlsafe_b64encode(b"\xff\xfe").decode(), "JSON"),
        (base64.urlsafe_b64encode(b"[1, 2]").decode(), "JSON object"),
        (base64.urlsafe_b64encode(b'{"expiry": NaN}').decode(), "JSON"),
        (base64.urlsafe_b64encode(b'{"expiry": Infinity}').decode(), "JSON"),
        (urlsafe({"call": ["store"]}), "no expiry"),
        (urlsafe({"expiry": "tomorrow"}), "expiry"),
        (urlsafe({"expiry": True}), "expiry"),
        (urlsafe({"expiry": LATER, "call": ["store", "upload"]}), "'upload'"),
        (urlsafe({"expiry": LATER, "call": [1]}), "call"),
        (urlsafe({"expiry": LATER, "call": {"store": 1}}), "call"),
        (urlsafe({"expiry": LATER, "maxSize": -1}), "maxSize"),
        (urlsafe({"expiry": LATER, "maxSize": 1.5}), "maxSize"),
        (urlsafe({"expiry": LATER, "minSize": "10"}), "minSize"),
        (urlsafe({"expiry": LATER, "handle": 5}), "handle"),
        (urlsafe({"expiry": LATER, "path": "("}), "regular expression"),
        (urlsafe({"expiry": LATER, "container": "[a-"}), "regular expression"),
        (urlsafe({"expiry": LATER, "path": 3}), "path"),
        (urlsafe({"expiry": LATER, "bucket": "x"}), "'bucket'"),
        ("A" * (policy.MAX_POLICY_LENGTH + 4), "longer"),
    ],
)
def test_decode_malformed_policy_is_400_with_a_clear_message(text, words):
    message = refused(400, decode_policy, text)
    assert words in message


# --- signing -------------------------------------------------------------------------------------


def test_sign_is_lowercase_hex_hmac_sha256_of_the_text_keyed_with_the_secret():
    text = urlsafe({"expiry": LATER})
    expected = hmac.new(SECRET.encode(), text.encode(), hashlib.sha256).hexdigest()
    assert sign(text, SECRET) == expected
    assert expected == expected.lower() and len(expected) == 64


def test_sign_known_vector():
    # RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
    assert sign("what do ya want for nothing?", "Jefe") == (
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    )


def test_signature_is_of_the_text_as_sent_not_of_the_json_or_another_encoding():
    data = with_plus_and_slash()
    sent = standard(data, pad=False)
    assert check(APP, sent, sign(sent, SECRET), call="store", now=NOW) is not None
    # The same JSON in the other alphabet, or the JSON itself, is not what was signed.
    assert "does not match" in refused(403, check, APP, sent, sign(urlsafe(data), SECRET), call="store", now=NOW)
    assert "does not match" in refused(403, check, APP, sent, sign(compact(data).decode(), SECRET),
                                       call="store", now=NOW)


def test_signature_with_plus_turned_into_space_still_verifies():
    sent = standard(with_plus_and_slash())
    assert check(APP, sent.replace("+", " "), sign(sent, SECRET), call="store", now=NOW) is not None


def test_signature_mismatch_is_403_and_never_reveals_the_secret_or_expected_signature():
    text = urlsafe({"expiry": LATER})
    wrong = sign(text, "another-secret")
    message = refused(403, check, APP, text, wrong, call="store", now=NOW)
    assert "signature does not match" in message and "HMAC-SHA256" in message
    assert sign(text, SECRET) not in message


def test_signature_in_uppercase_hex_is_accepted():
    text = urlsafe({"expiry": LATER})
    assert check(APP, text, sign(text, SECRET).upper(), call="store", now=NOW) is not None


@pytest.mark.parametrize("signature", ["abc", "z" * 64, "0" * 63, "0" * 65, "é" * 64])
def test_signature_that_is_not_64_hex_digits_is_400(signature):
    message = refused(400, check, APP, urlsafe({"expiry": LATER}), signature, call="store", now=NOW)
    assert "64 hexadecimal digits" in message


def test_signature_is_compared_in_constant_time(monkeypatch):
    calls = []
    real = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(policy.hmac, "compare_digest", spy)
    text = urlsafe({"expiry": LATER})
    check(APP, text, sign(text, SECRET), call="store", now=NOW)
    refused(403, check, APP, text, sign(text, "x"), call="store", now=NOW)
    assert len(calls) == 2


def test_signature_is_checked_before_the_policy_is_decoded():
    # Unsigned garbage is refused as unsigned (403): it never reaches the JSON or regex parsers.
    assert "signature" in refused(403, check, APP, "garbage!", "0" * 64, call="store", now=NOW)
    # Garbage signed with the secret is the signer's mistake: 400, naming what is wrong.
    assert "base64" in refused(400, run, "garbage!")


# --- presence ------------------------------------------------------------------------------------


def test_no_policy_and_no_signature_is_fine_when_the_app_does_not_require_security():
    assert check(APP, None, None, call="store", now=NOW) is None
    assert check(APP, "", "", call="store", now=NOW) is None


def test_no_policy_when_the_app_requires_security_is_400():
    message = refused(400, check, SECURE, None, None, call="store", now=NOW)
    assert message.startswith("this app requires a policy and signature")
    assert "python -m store policy" in message


@pytest.mark.parametrize("app", [APP, SECURE], ids=["open", "secure"])
def test_policy_without_signature_or_signature_without_policy_is_400(app):
    text = urlsafe({"expiry": LATER})
    assert "without a signature" in refused(400, check, app, text, None, call="store", now=NOW)
    assert "without a policy" in refused(400, check, app, None, sign(text, SECRET), call="store", now=NOW)


def test_a_given_policy_is_checked_even_when_the_app_does_not_require_one():
    assert "expired" in refused(403, run, {"expiry": NOW - 1}, APP)


# --- rules ---------------------------------------------------------------------------------------


def test_expiry_boundary_valid_until_the_expiry_second_itself():
    data = {"expiry": LATER}
    assert run(data, now=LATER - 1) is not None
    assert run(data, now=LATER - 0.001) is not None
    message = refused(403, run, data, now=LATER)
    when = datetime.fromtimestamp(LATER, UTC).isoformat(timespec="seconds")
    assert message.startswith(f"policy expired at {when}")
    assert when.startswith("2027-")
    refused(403, run, data, now=LATER + 1)


def test_expiry_message_survives_an_expiry_out_of_datetime_range():
    assert "expired" in refused(403, run, {"expiry": -1e20})


def test_call_rule():
    assert run({"expiry": LATER, "call": ["store"]}, call="store") is not None
    message = refused(403, run, {"expiry": LATER, "call": ["read", "stat"]}, call="store")
    assert message == "policy does not allow call 'store' (it allows: read, stat)"
    assert "no calls" in refused(403, run, {"expiry": LATER, "call": []}, call="read")


def test_policy_without_call_allows_every_call():
    for name in policy.CALLS:
        assert run({"expiry": LATER}, call=name) is not None


def test_allows_write_decides_is_writeable():
    assert Policy(expiry=LATER, call=("store", "write")).allows("write")
    assert not Policy(expiry=LATER, call=("store",)).allows("write")
    assert Policy(expiry=LATER).allows("write")


def test_handle_rule():
    data = {"expiry": LATER, "handle": "H1"}
    assert run(data, call="read", handle="H1") is not None
    assert run(data, call="store") is not None  # a new file has no handle to check
    message = refused(403, run, data, call="read", handle="H2")
    assert message == "handle 'H2' is not the policy's handle 'H1'"


def test_size_rules_are_inclusive_bounds():
    data = {"expiry": LATER, "maxSize": 1000, "minSize": 10}
    for size in (10, 500, 1000):
        assert run(data, size=size) is not None
    assert refused(403, run, data, size=5000) == "size 5000 is above the policy's maxSize 1000"
    assert refused(403, run, data, size=9) == "size 9 is below the policy's minSize 10"
    assert run(data, size=None) is not None  # not known yet: checked later with check_size


def test_check_max_size_alone_lets_a_growing_upload_pass_the_min_size():
    got = Policy(expiry=LATER, max_size=100, min_size=50)
    got.check_max_size(1)
    assert "maxSize" in refused(403, got.check_max_size, 101)
    assert "minSize" in refused(403, got.check_size, 1)


def test_path_rule_matches_the_whole_path():
    data = {"expiry": LATER, "path": "uploads/.*"}
    assert run(data, path="uploads/HANDLE_a.png") is not None
    assert run(data, path="uploads/deep/er.png") is not None
    message = refused(403, run, data, path="x")
    assert message.startswith("path 'x' does not match the policy's path 'uploads/.*'")
    refused(403, run, data, path="other/uploads/a.png")  # a search would have matched
    refused(403, run, {"expiry": LATER, "path": "uploads"}, path="uploads/a.png")  # a prefix match would have


def test_path_rule_written_with_a_leading_slash_matches_the_key_without_one():
    assert run({"expiry": LATER, "path": "/myfiles/.*"}, path="myfiles/1234.png") is not None


def test_container_rule_matches_the_whole_name():
    data = {"expiry": LATER, "container": "user-.*"}
    assert run(data, container="user-photos") is not None
    message = refused(403, run, data, container="files")
    assert message.startswith("container 'files' does not match the policy's container 'user-.*'")
    refused(403, run, data, container="not-user-photos")


def test_rules_without_a_request_value_are_not_checked():
    data = {"expiry": LATER, "path": "a", "container": "b", "handle": "c", "maxSize": 0}
    assert run(data) is not None


# --- building ------------------------------------------------------------------------------------


def test_make_policy_round_trips_through_encode_decode_and_check():
    made = make_policy(expiry=LATER, call=["store", "write"], max_size=10, min_size=1, path="p/.*",
                       container="files", handle="H")
    pair = signed(made, SECRET)
    assert "+" not in pair["policy"] and "/" not in pair["policy"]  # base64url
    assert decode_policy(pair["policy"]) == made
    got = check(APP, pair["policy"], pair["signature"], call="store", now=NOW, size=5, path="p/x", container="files")
    assert got == made
    assert json.loads(base64.urlsafe_b64decode(pair["policy"])) == {
        "expiry": LATER, "call": ["store", "write"], "handle": "H", "maxSize": 10, "minSize": 1,
        "path": "p/.*", "container": "files",
    }


def test_make_policy_refuses_bad_rules_with_400():
    assert "regular expression" in refused(400, make_policy, expiry=LATER, path="(")
    assert "'nope'" in refused(400, make_policy, expiry=LATER, call=["nope"])


def test_resolve_expiry_relative_seconds_or_unix_time():
    assert resolve_expiry(600, NOW) == int(NOW) + 600
    assert resolve_expiry(2_000_000_000, NOW) == 2_000_000_000
    assert isinstance(resolve_expiry(2_000_000_000.0, NOW), int)


# --- configuration -------------------------------------------------------------------------------


def test_config_require_security_defaults_to_false_and_reads_the_key():
    cfg = config.from_dict({"apps": {"a": {"secret": "s"}, "b": {"secret": "s", "require_security": True}}})
    assert cfg.app("a").require_security is False
    assert cfg.app("b").require_security is True


def test_config_require_security_must_be_a_boolean():
    with pytest.raises(ValueError, match="require_security"):
        config.from_dict({"apps": {"a": {"secret": "s", "require_security": "yes"}}})


def test_config_require_security_from_the_environment():
    cfg = config.from_dict(config.apply_env_overrides({"apps": {"a": {"secret": "s"}}},
                                                      {"PICKSTORE__apps__a__require_security": "true"}))
    assert cfg.app("a").require_security is True
