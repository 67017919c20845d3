"""The addresses the store refuses to fetch from (store.remote), in CPython: every private, local,
reserved and odd spelling of one refused by default, public ones allowed, the operator's ranges let
through; and the URLs store.remote.http refuses before resolving anything."""

from __future__ import annotations

import ipaddress

import pytest

from harness.inthread import run_async
from store.errors import StoreError
from store.remote import allowed_networks, literal_address, refusal, resolve
from store.remote.http import checked_url, name_from_disposition, name_from_url

REFUSED = [
    "127.0.0.1", "127.255.255.254", "10.0.0.1", "10.255.255.255", "172.16.0.1", "172.31.255.255",
    "192.168.0.1", "192.168.255.255", "169.254.169.254", "169.254.0.1", "100.64.0.1", "100.127.255.254",
    "0.0.0.0", "0.1.2.3", "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255", "192.0.2.1",
    "198.18.0.1", "::1", "::", "fc00::1", "fd12:3456::1", "fe80::1", "ff02::1", "::ffff:127.0.0.1",
    "::ffff:10.0.0.1", "::ffff:169.254.169.254", "::ffff:192.168.1.1", "64:ff9b::7f00:1",
    "64:ff9b::a9fe:a9fe", "2002:7f00:1::1", "2002:a00:1::", "2001:db8::1", "fec0::1",
]
PUBLIC = ["8.8.8.8", "1.1.1.1", "93.184.216.34", "172.32.0.1", "100.128.0.1", "192.169.0.1",
          "2606:4700:4700::1111", "2a00:1450:4001::200e", "::ffff:8.8.8.8"]


@pytest.mark.parametrize("text", REFUSED)
def test_private_local_and_reserved_addresses_are_refused_by_default(text: str) -> None:
    assert refusal(ipaddress.ip_address(text)) is not None


@pytest.mark.parametrize("text", PUBLIC)
def test_public_addresses_are_allowed(text: str) -> None:
    assert refusal(ipaddress.ip_address(text)) is None


@pytest.mark.parametrize("spelling", [
    "2130706433", "0x7f000001", "0x7f.1", "0x7f.0.0.1", "0177.0.0.1", "0177.1", "127.1", "127.0.1",
    "017700000001", "[::1]", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "127.000.000.001",
])
def test_odd_spellings_of_loopback_are_read_as_loopback(spelling: str) -> None:
    address = literal_address(spelling)
    assert address is not None
    assert refusal(address) is not None
    inner = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped else address
    assert inner.is_loopback


@pytest.mark.parametrize("spelling, expected", [
    ("167772161", "10.0.0.1"), ("0xa9.0xfe.0xa9.0xfe", "169.254.169.254"), ("0300.0250.1", "192.168.0.1"),
    ("10.1", "10.0.0.1"), ("0", "0.0.0.0"),
])
def test_odd_spellings_are_read_as_resolvers_read_them(spelling: str, expected: str) -> None:
    assert literal_address(spelling) == ipaddress.ip_address(expected)


@pytest.mark.parametrize("name", ["example.com", "files.example.org", "1.2.3.4.example", "0x7g.1", "256.256.256.256", "08.1"])
def test_names_and_impossible_numbers_are_not_addresses(name: str) -> None:
    assert literal_address(name) is None


def test_the_operators_ranges_let_their_addresses_through_and_no_others() -> None:
    allowed = allowed_networks(["127.0.0.1/32", "10.1.2.0/24", "fd00::/8"])
    assert refusal(ipaddress.ip_address("127.0.0.1"), allowed) is None
    assert refusal(ipaddress.ip_address("::ffff:127.0.0.1"), allowed) is None
    assert refusal(ipaddress.ip_address("10.1.2.200"), allowed) is None
    assert refusal(ipaddress.ip_address("fd00::5"), allowed) is None
    for still in ("127.0.0.2", "10.1.3.1", "169.254.169.254", "::1"):
        assert refusal(ipaddress.ip_address(still), allowed) is not None, still


def test_resolving_a_refused_literal_raises_403_without_looking_anything_up() -> None:
    for host in ("2130706433", "0x7f.1", "169.254.169.254", "[::1]"):
        with pytest.raises(StoreError) as refused:
            run_async(resolve, host, 80, ())
        assert refused.value.code == 403
        assert "[remote] allow" in refused.value.message


def test_a_name_that_resolves_to_loopback_is_refused() -> None:
    with pytest.raises(StoreError) as refused:
        run_async(resolve, "localhost", 80, ())
    assert refused.value.code == 403
    assert "localhost" in refused.value.message


def test_an_allowed_address_resolves_to_itself() -> None:
    assert run_async(resolve, "0x7f.1", 80, allowed_networks(["127.0.0.0/8"])) == ipaddress.ip_address("127.0.0.1")


@pytest.mark.parametrize("url", [
    "file:///etc/passwd", "ftp://example.com/a", "gopher://example.com/", "javascript:alert(1)", "data:,x",
    "//example.com/a", "example.com/a", "http://", "http:///path", "http://user:pw@example.com/", "",
    "http://example.com:99999/", "http://[::1/",
])
def test_urls_other_than_http_and_https_with_a_host_are_bad_requests(url: str) -> None:
    with pytest.raises(StoreError) as refused:
        checked_url(url)
    assert refused.value.code == 400


def test_http_and_https_urls_give_their_host_and_port() -> None:
    assert checked_url("https://Files.Example.com/a.pdf") == ("https", "files.example.com", 443)
    assert checked_url("HTTP://example.com:8080/a") == ("http", "example.com", 8080)
    assert checked_url("http://[2606:4700::1]/x") == ("http", "2606:4700::1", 80)


def test_names_come_from_content_disposition_then_the_url() -> None:
    assert name_from_disposition("attachment; filename=\"report.pdf\"") == "report.pdf"
    assert name_from_disposition("attachment; filename*=UTF-8''na%C3%AFve%20file.txt") == "naïve file.txt"
    assert name_from_disposition("attachment; filename=\"../../etc/passwd\"") == "passwd"
    assert name_from_disposition(None) == ""
    assert name_from_url("https://example.com/docs/My%20Report.pdf?x=1") == "My Report.pdf"
    assert name_from_url("https://example.com/") == ""
