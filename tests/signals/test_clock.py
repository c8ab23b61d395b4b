from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from personalize.signals.clock import local_time, pick_timezone, valid_timezone


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Europe/Berlin", "Europe/Berlin"),
        ("America/Argentina/Buenos_Aires", "America/Argentina/Buenos_Aires"),
        ("Etc/GMT+5", "Etc/GMT+5"),
        ("UTC", "UTC"),
        ("  Asia/Tokyo\n", "Asia/Tokyo"),
    ],
)
def test_valid_timezone_accepts_iana_names(name, expected):
    assert valid_timezone(name) == expected


@pytest.mark.parametrize(
    "name",
    [
        None,
        "",
        "Mars/Olympus_Mons",
        "europe/berlin/x",
        "America",  # a directory of the zone database, not a zone
        "../../../../etc/passwd",
        "Europe/../UTC",
        "/usr/share/zoneinfo/UTC",
        "/etc/localtime",
        "Europe/Berlin\x00",
        "Europe/Berlin\n/x",
        "Europe\\Berlin",
        "Ёurope/Berlin",
        "A" * 65,
        "Europe/" + "x" * 10_000,
        42,
    ],
)
def test_valid_timezone_rejects_garbage(name):
    assert valid_timezone(name) is None


@pytest.mark.parametrize(
    ("geo_tz", "cookie_tz", "site_tz", "expected"),
    [
        ("Europe/Vienna", "Asia/Tokyo", "Europe/London", "Europe/Vienna"),
        (None, "Asia/Tokyo", "Europe/London", "Asia/Tokyo"),
        ("Nowhere/Land", "Asia/Tokyo", "Europe/London", "Asia/Tokyo"),
        (None, "../../etc/passwd", "Europe/London", "Europe/London"),
        (None, None, None, "UTC"),
        ("bad", "worse", "worst", "UTC"),
    ],
)
def test_pick_timezone_prefers_geo_then_cookie_then_site(geo_tz, cookie_tz, site_tz, expected):
    assert pick_timezone(geo_tz, cookie_tz, site_tz) == expected


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "zone", "expected"),
    [
        # Berlin springs forward at 01:00 UTC on 31 March 2024: 02:00 never happens.
        (
            utc(2024, 3, 31, 0, 59),
            "Europe/Berlin",
            {"hour": 1, "minute": 59, "weekday": 7, "month": 3, "date": "2024-03-31"},
        ),
        (
            utc(2024, 3, 31, 1, 0),
            "Europe/Berlin",
            {"hour": 3, "minute": 0, "weekday": 7, "month": 3, "date": "2024-03-31"},
        ),
        # New York falls back at 06:00 UTC on 3 November 2024: 01:30 happens twice.
        (
            utc(2024, 11, 3, 5, 30),
            "America/New_York",
            {"hour": 1, "minute": 30, "weekday": 7, "month": 11, "date": "2024-11-03"},
        ),
        (
            utc(2024, 11, 3, 6, 30),
            "America/New_York",
            {"hour": 1, "minute": 30, "weekday": 7, "month": 11, "date": "2024-11-03"},
        ),
        # Midnight and year wrap forwards and backwards.
        (
            utc(2024, 12, 31, 23, 30),
            "Asia/Tokyo",
            {"hour": 8, "minute": 30, "weekday": 3, "month": 1, "date": "2025-01-01"},
        ),
        (
            utc(2024, 1, 1, 5, 0),
            "America/Los_Angeles",
            {"hour": 21, "minute": 0, "weekday": 7, "month": 12, "date": "2023-12-31"},
        ),
        # Half-hour offset crossing midnight.
        (
            utc(2024, 6, 15, 20, 45),
            "Asia/Kolkata",
            {"hour": 2, "minute": 15, "weekday": 7, "month": 6, "date": "2024-06-16"},
        ),
        # UTC+14 lands on the leap day.
        (
            utc(2024, 2, 28, 10, 0),
            "Pacific/Kiritimati",
            {"hour": 0, "minute": 0, "weekday": 4, "month": 2, "date": "2024-02-29"},
        ),
        # Southern hemisphere summer time: Sydney is UTC+11 in January.
        (
            utc(2024, 1, 15, 13, 5),
            "Australia/Sydney",
            {"hour": 0, "minute": 5, "weekday": 2, "month": 1, "date": "2024-01-16"},
        ),
    ],
)
def test_local_time_across_dst_and_midnight(now, zone, expected):
    result = local_time(now, zone, "UTC")

    assert result == {
        **expected,
        "time": f"{expected['hour']:02d}:{expected['minute']:02d}",
        "timezone": zone,
    }


def test_local_time_converts_from_any_aware_datetime():
    now = datetime(2024, 7, 1, 9, 0, tzinfo=timezone(timedelta(hours=-4)))

    result = local_time(now, "Europe/London", "UTC")

    assert (result["date"], result["time"], result["timezone"]) == (
        "2024-07-01",
        "14:00",
        "Europe/London",
    )


def test_naive_now_is_taken_as_utc():
    result = local_time(datetime(2024, 7, 1, 12, 0), "Europe/Paris", "UTC")

    assert (result["time"], result["timezone"]) == ("14:00", "Europe/Paris")


def test_invalid_zone_uses_the_fallback():
    result = local_time(utc(2024, 7, 1, 12, 0), "../../etc/passwd", "America/Chicago")

    assert (result["time"], result["timezone"]) == ("07:00", "America/Chicago")


def test_invalid_fallback_uses_utc():
    result = local_time(utc(2024, 7, 1, 12, 0), "Nowhere/Land", "Also/Nowhere")

    assert result == {
        "hour": 12,
        "minute": 0,
        "weekday": 1,
        "month": 7,
        "date": "2024-07-01",
        "time": "12:00",
        "timezone": "UTC",
    }


zone_names = st.one_of(
    st.none(),
    st.text(max_size=80),
    st.sampled_from(["Europe/Berlin", "Asia/Kathmandu", "America/St_Johns", "../x", "/etc/x"]),
)


@settings(deadline=None)
@given(
    now=st.datetimes(
        min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1), timezones=st.timezones()
    ),
    zone=zone_names,
    fallback=zone_names.map(lambda name: name or ""),
)
def test_local_time_never_raises_and_stays_in_range(now, zone, fallback):
    result = local_time(now, zone, fallback)

    assert set(result) == {"hour", "minute", "weekday", "month", "date", "time", "timezone"}
    assert 0 <= result["hour"] <= 23
    assert 0 <= result["minute"] <= 59
    assert 1 <= result["weekday"] <= 7
    assert 1 <= result["month"] <= 12
    assert result["time"] == f"{result['hour']:02d}:{result['minute']:02d}"
    assert datetime.strptime(result["date"], "%Y-%m-%d").month == result["month"]
    assert result["timezone"] in {valid_timezone(zone), valid_timezone(fallback), "UTC"}
    assert valid_timezone(result["timezone"]) == result["timezone"]


@settings(deadline=None)
@given(geo_tz=zone_names, cookie_tz=zone_names, site_tz=zone_names)
def test_pick_timezone_always_returns_a_valid_zone(geo_tz, cookie_tz, site_tz):
    result = pick_timezone(geo_tz, cookie_tz, site_tz)

    assert valid_timezone(result) == result
    first_valid = next(
        (valid_timezone(z) for z in (geo_tz, cookie_tz, site_tz) if valid_timezone(z)), "UTC"
    )
    assert result == first_valid
