"""The personalize_export, personalize_erase and personalize_purge management commands."""

from __future__ import annotations

import io
import json
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.management import CommandError, call_command

from personalize.models import Profile
from personalize.profiles.store import ProfileKey, new_visitor_id, profile_store
from personalize.rules.scoring import ProfileState

pytestmark = pytest.mark.django_db


def run(*args: str, **options: Any) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue()


@pytest.fixture
def anna(db: Any) -> User:
    user = User.objects.create_user("anna", "anna@example.com", "pw")
    state = ProfileState(
        visits=4,
        first_seen=1_780_000_000.0,
        last_seen=time.time(),
        score=12.5,
        decayed_at=time.time(),
        prefs={"sport": "climbing"},
        prefs_at={"sport": 1_780_000_100.0},
        consent=("necessary", "personalization"),
        consent_at=1_780_000_000.0,
        merges=({"at": 1_780_000_050.0, "action": "linked", "visitor_id": "cd" * 16},),
    )
    profile_store().update(ProfileKey(user_id=user.pk), lambda _: state)
    return user


@pytest.fixture
def visitor_id(db: Any) -> str:
    visitor_id = new_visitor_id()
    profile_store().update(
        ProfileKey(visitor_id=visitor_id),
        lambda _: ProfileState(visits=2, last_seen=time.time(), interests={"skiing": 3.0}),
    )
    return visitor_id


# --- personalize_export --------------------------------------------------------------------------


def test_export_a_user_by_username_and_by_id(anna: User) -> None:
    data = json.loads(run("personalize_export", "--user", "anna"))
    assert data["format"] == "wagtail-personalize/export/2"
    assert data["identity"]["user_id"] == anna.pk
    assert len(data["identity"]["visitor_id"]) == 32
    assert data["profile"]["visits"] == 4
    assert data["profile"]["prefs"] == {"sport": "climbing"}
    assert data["consent"] == {
        "source": "account",
        "explicit": True,
        "purposes": ["necessary", "personalization"],
        "granted": {"necessary": True, "personalization": True, "analytics": False},
        "at": "2026-05-28T20:26:40Z",
        "gpc": None,
        "mode": "opt-in",
    }
    assert data["profile"]["consent"] == {
        "source": "account",
        "purposes": ["necessary", "personalization"],
        "at": "2026-05-28T20:26:40Z",
    }
    assert data["profile"]["prefs_at"] == {"sport": "2026-05-28T20:28:20Z"}
    assert data["merges"] == [
        {"at": "2026-05-28T20:27:30Z", "action": "linked", "visitor_id": "cd" * 16}
    ]
    assert data["signals"] is None
    assert data["segments"] is None
    by_id = json.loads(run("personalize_export", "--user", str(anna.pk)))
    assert by_id["profile"] == data["profile"]


def test_export_an_anonymous_visitor(visitor_id: str) -> None:
    dashed = str(uuid.UUID(visitor_id))
    data = json.loads(run("personalize_export", "--visitor-id", dashed.upper()))
    assert data["identity"] == {"visitor_id": visitor_id, "user_id": None}
    assert data["profile"]["interests"] == {"skiing": 3.0}
    # The anonymous visitor's choice is kept in their browser, which a command cannot read.
    assert data["consent"]["source"] == "unknown"
    assert data["consent"]["purposes"] is None
    assert data["consent"]["explicit"] is None
    assert data["profile"]["consent"] == {"source": "unknown", "purposes": None, "at": None}


def test_export_of_a_user_without_a_profile(db: Any) -> None:
    User.objects.create_user("ben")
    data = json.loads(run("personalize_export", "--user", "ben"))
    assert data["profile"] is None
    assert data["merges"] == []
    assert Profile.objects.count() == 0


def test_export_errors(db: Any) -> None:
    with pytest.raises(CommandError, match="No user with the username or id 'nobody'"):
        run("personalize_export", "--user", "nobody")
    with pytest.raises(CommandError, match="'xyz' is not a visitor id"):
        run("personalize_export", "--visitor-id", "xyz")
    with pytest.raises(CommandError, match="one of the arguments --user --visitor-id is required"):
        run("personalize_export")


# --- personalize_erase ---------------------------------------------------------------------------


def test_erase_a_user(anna: User, visitor_id: str) -> None:
    key = ProfileKey(user_id=anna.pk)
    assert profile_store().load(key) is not None  # cached now
    assert cache.get(key.cache_key) is not None
    output = run("personalize_erase", "--user", "anna", "--yes")
    assert output == "Deleted 1 profile of user 'anna'.\n"
    assert not Profile.objects.filter(user=anna).exists()
    assert cache.get(key.cache_key) is None
    assert Profile.objects.count() == 1  # the other visitor's profile stays


def test_erase_a_visitor_and_again(visitor_id: str) -> None:
    output = run("personalize_erase", "--visitor-id", visitor_id, "--noinput")
    assert output == f"Deleted 1 profile of visitor {visitor_id}.\n"
    assert Profile.objects.count() == 0
    again = run("personalize_erase", "--visitor-id", visitor_id, "--noinput")
    assert again == f"Deleted 0 profiles of visitor {visitor_id}.\n"


def test_erase_asks_first(visitor_id: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    with pytest.raises(CommandError, match="Erasure cancelled"):
        run("personalize_erase", "--visitor-id", visitor_id)
    assert Profile.objects.count() == 1
    monkeypatch.setattr("builtins.input", lambda prompt: "yes")
    assert run("personalize_erase", "--visitor-id", visitor_id).startswith("Deleted 1 profile")
    assert Profile.objects.count() == 0


def test_erase_errors(db: Any) -> None:
    with pytest.raises(CommandError, match="No user with the username or id '42'"):
        run("personalize_erase", "--user", "42", "--yes")
    with pytest.raises(CommandError, match="is not a visitor id"):
        run("personalize_erase", "--visitor-id", "g" * 32, "--yes")


# --- personalize_purge ---------------------------------------------------------------------------


def age(visitor_id: str, days: int) -> None:
    Profile.objects.filter(visitor_id=visitor_id).update(
        last_seen=datetime.now(UTC) - timedelta(days=days)
    )


@pytest.fixture
def three_visitors(db: Any) -> list[str]:
    ids = []
    for days in (5, 40, 400):
        visitor_id = new_visitor_id()
        profile_store().update(ProfileKey(visitor_id=visitor_id), lambda s: replace(s, visits=1))
        age(visitor_id, days)
        ids.append(visitor_id)
    return ids


def test_purge_dry_run_counts_only(three_visitors: list[str]) -> None:
    output = run("personalize_purge", "--older-than", "30", "--dry-run")
    assert output.startswith("Would delete 2 profiles last seen before ")
    assert Profile.objects.count() == 3


def test_purge_deletes_stale_profiles(three_visitors: list[str]) -> None:
    stale = ProfileKey(visitor_id=three_visitors[1])
    assert profile_store().load(stale) is not None
    output = run("personalize_purge", "--older-than", "30")
    assert output.startswith("Deleted 2 profiles last seen before ")
    assert [p.visitor_id.hex for p in Profile.objects.all()] == [three_visitors[0]]
    assert cache.get(stale.cache_key) is None


def test_purge_defaults_to_the_retention_setting(three_visitors: list[str], settings: Any) -> None:
    assert run("personalize_purge", "--dry-run").startswith(
        "Would delete 1 profile last seen before "
    )
    settings.PERSONALIZE = {**settings.PERSONALIZE, "PROFILE_RETENTION_DAYS": 10}
    assert run("personalize_purge").startswith("Deleted 2 profiles")
    assert Profile.objects.count() == 1


def test_purge_with_the_memory_store(settings: Any) -> None:
    settings.PERSONALIZE = {
        **settings.PERSONALIZE,
        "PROFILE_STORE": "personalize.profiles.MemoryProfileStore",
    }
    store = profile_store()
    now = time.time()
    store.update(ProfileKey(visitor_id=new_visitor_id()), lambda _: ProfileState(last_seen=now))
    old = now - 50 * 86400
    store.update(ProfileKey(visitor_id=new_visitor_id()), lambda _: ProfileState(last_seen=old))
    assert run("personalize_purge", "--older-than", "30", "--dry-run").startswith("Would delete 1")
    assert run("personalize_purge", "--older-than", "30").startswith(
        "Deleted 1 profile last seen before "
    )


def test_purge_refuses_negative_days(db: Any) -> None:
    with pytest.raises(CommandError, match="--older-than must be a number of days of 0 or more"):
        run("personalize_purge", "--older-than", "-1")
