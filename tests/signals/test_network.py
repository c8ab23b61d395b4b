import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from personalize.signals.network import (
    client_ip,
    is_trusted,
    parse_address,
    parse_trusted_networks,
)

TRUSTED = parse_trusted_networks(["10.0.0.0/8", "192.0.2.1", "2001:db8::/32"])


def test_parse_trusted_networks_reads_cidrs_and_single_addresses():
    networks = parse_trusted_networks(["10.0.0.0/8", "192.0.2.1", "2001:db8::1", " 172.16.0.0/12 "])

    assert networks == (
        ipaddress.IPv4Network("10.0.0.0/8"),
        ipaddress.IPv4Network("192.0.2.1/32"),
        ipaddress.IPv6Network("2001:db8::1/128"),
        ipaddress.IPv4Network("172.16.0.0/12"),
    )


def test_parse_trusted_networks_masks_host_bits():
    assert parse_trusted_networks(["10.0.0.5/24"]) == (ipaddress.IPv4Network("10.0.0.0/24"),)


def test_parse_trusted_networks_unwraps_ipv4_mapped_networks():
    assert parse_trusted_networks(["::ffff:10.0.0.0/104"]) == (ipaddress.IPv4Network("10.0.0.0/8"),)


def test_parse_trusted_networks_accepts_an_empty_list():
    assert parse_trusted_networks([]) == ()


@pytest.mark.parametrize("entry", ["10.0.0.256", "10.0.0.0/33", "proxy.internal", "", "  "])
def test_parse_trusted_networks_names_the_bad_entry(entry):
    with pytest.raises(ValueError, match=f"Invalid trusted proxy entry {entry!r}"):
        parse_trusted_networks(["10.0.0.0/8", entry])


def test_parse_trusted_networks_rejects_non_string_entries():
    with pytest.raises(ValueError, match="Invalid trusted proxy entry 10"):
        parse_trusted_networks([10])  # type: ignore[list-item]


def test_parse_trusted_networks_rejects_a_single_string():
    # Iterating "10.0.0.1" would trust the addresses "1", "0", ... instead.
    with pytest.raises(ValueError, match="not the single string '10.0.0.1'"):
        parse_trusted_networks("10.0.0.1")


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("203.0.113.9", "203.0.113.9"),
        ("  203.0.113.9 ", "203.0.113.9"),
        ("203.0.113.9:5678", "203.0.113.9"),
        ("2001:DB8::1", "2001:db8::1"),
        ("[2001:db8::1]", "2001:db8::1"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("::ffff:203.0.113.9", "203.0.113.9"),
        ("[::ffff:203.0.113.9]:80", "203.0.113.9"),
    ],
)
def test_parse_address_normalises(token, expected):
    assert str(parse_address(token)) == expected


@pytest.mark.parametrize(
    "token",
    [
        None,
        "",
        "unknown",
        "203.0.113.9:",
        "203.0.113.9:99999",
        "203.0.113.9:http",
        "[2001:db8::1",
        "[2001:db8::1]443",
        "1.2.3.4.5",
        "١.٢.٣.٤",
        "9" * 200,
        42,
    ],
)
def test_parse_address_rejects_garbage(token):
    assert parse_address(token) is None


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("10.1.2.3", True),
        ("192.0.2.1", True),
        ("192.0.2.2", False),
        ("2001:db8:1::7", True),
        ("::ffff:10.1.2.3", True),
        ("203.0.113.9", False),
        ("not an ip", False),
        (None, False),
        ("", False),
    ],
)
def test_is_trusted(address, expected):
    assert is_trusted(address, TRUSTED) is expected


def test_untrusted_peer_is_the_client_whatever_forwarded_for_says():
    assert client_ip("198.51.100.20", "81.2.69.1", TRUSTED) == "198.51.100.20"


def test_trusted_peer_yields_the_forwarded_client():
    assert client_ip("10.0.0.2", "81.2.69.1", TRUSTED) == "81.2.69.1"


def test_chain_of_trusted_proxies_is_skipped_from_the_right():
    forwarded_for = "81.2.69.1, 10.3.3.3, 192.0.2.1, 10.2.2.2"

    assert client_ip("10.0.0.2", forwarded_for, TRUSTED) == "81.2.69.1"


def test_addresses_left_of_the_client_are_ignored():
    # The visitor wrote "1.1.1.1" and "garbage" itself; our proxy appended the
    # address it saw, 81.2.69.1.
    forwarded_for = "garbage, 1.1.1.1, 81.2.69.1, 10.2.2.2"

    assert client_ip("10.0.0.2", forwarded_for, TRUSTED) == "81.2.69.1"


def test_every_hop_trusted_yields_the_left_most_hop():
    assert client_ip("10.0.0.2", "10.9.9.9, 10.2.2.2", TRUSTED) == "10.9.9.9"


def test_trusted_peer_without_forwarded_for_is_the_client():
    assert client_ip("10.0.0.2", None, TRUSTED) == "10.0.0.2"
    assert client_ip("10.0.0.2", "  ", TRUSTED) == "10.0.0.2"


def test_malformed_hop_before_the_client_yields_unknown():
    assert client_ip("10.0.0.2", "81.2.69.1, bogus, 10.2.2.2", TRUSTED) is None
    assert client_ip("10.0.0.2", "81.2.69.1,,10.2.2.2", TRUSTED) is None


def test_ports_and_brackets_are_stripped():
    forwarded_for = "[2a01:4f8::7]:51234, 10.2.2.2:8080"

    assert client_ip("10.0.0.2", forwarded_for, TRUSTED) == "2a01:4f8::7"


def test_ipv6_proxies_and_clients():
    assert client_ip("2001:db8::10", "2a01:4f8::7, 2001:db8::11", TRUSTED) == "2a01:4f8::7"
    assert client_ip("2a01:4f8::7", "81.2.69.1", TRUSTED) == "2a01:4f8::7"


def test_ipv4_mapped_peer_and_client_are_unwrapped():
    assert client_ip("::ffff:10.0.0.2", "::ffff:81.2.69.1", TRUSTED) == "81.2.69.1"


def test_missing_or_malformed_peer_yields_unknown():
    assert client_ip(None, "81.2.69.1", TRUSTED) is None
    assert client_ip("", "81.2.69.1", TRUSTED) is None
    assert client_ip("localhost", "81.2.69.1", TRUSTED) is None


def test_without_trusted_proxies_the_peer_is_always_the_client():
    assert client_ip("10.0.0.2", "81.2.69.1", ()) == "10.0.0.2"


def test_unbounded_trusted_chain_yields_unknown():
    forwarded_for = ", ".join(["81.2.69.1"] + ["10.0.0.7"] * 40)

    assert client_ip("10.0.0.2", forwarded_for, TRUSTED) is None


def test_long_untrusted_prefix_does_not_hide_the_client():
    forwarded_for = ", ".join(["203.0.113.5"] * 1000 + ["81.2.69.1", "10.2.2.2"])

    assert client_ip("10.0.0.2", forwarded_for, TRUSTED) == "81.2.69.1"


addresses = st.one_of(
    st.none(),
    st.text(max_size=60),
    st.ip_addresses().map(str),
    st.sampled_from(["10.0.0.2", "192.0.2.1", "2001:db8::5", "[2001:db8::5]:443", "10.0.0.2:80"]),
)
forwarded = st.one_of(
    st.none(),
    st.text(max_size=200),
    st.lists(st.one_of(st.ip_addresses().map(str), addresses.filter(bool)), max_size=40).map(
        ", ".join
    ),
)


@settings(deadline=None)
@given(remote_addr=addresses, forwarded_for=forwarded)
def test_client_ip_never_raises_and_returns_a_known_address(remote_addr, forwarded_for):
    result = client_ip(remote_addr, forwarded_for, TRUSTED)

    if result is not None:
        address = ipaddress.ip_address(result)
        assert str(address) == result
        candidates = [remote_addr, *(forwarded_for or "").split(",")]
        assert result in {str(parse_address(c)) for c in candidates}
        if not is_trusted(remote_addr, TRUSTED):
            assert result == str(parse_address(remote_addr))
