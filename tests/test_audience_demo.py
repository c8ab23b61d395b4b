"""The demo's calls to action with an audience: seeded, delivered, and added to earlier demos."""

from __future__ import annotations

import copy
import io
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from cms_site.home.models import ContentPage
from tests.conftest import WINDOWS_CHROME, without_clock_segments

pytestmark = pytest.mark.django_db

GUIDE = "/guides/choosing-a-rain-jacket/"
SIGN_UP = "Free re-proofing with an account"
CUSTOMERS = "Your free re-proofing"
SECTION = "Care and repairs"


def _seed() -> None:
    from personalize.visitors.registry import segments_changed

    call_command("seed_demo", stdout=io.StringIO())
    segments_changed()


@pytest.fixture
def demo(db: Any) -> None:
    _seed()
    without_clock_segments()


def _page(client: Client) -> str:
    response = client.get(GUIDE, headers={"User-Agent": WINDOWS_CHROME})
    assert response.status_code == 200
    return response.content.decode()


def test_seeded_calls_to_action_carry_their_audience(demo: None) -> None:
    from personalize.models import Segment

    page = ContentPage.objects.get(slug="choosing-a-rain-jacket")
    audiences = [
        (
            b.value["heading"],
            b.value["audience"]["who"],
            [s for s in b.value["audience"]["segments"] if s],
        )
        for b in page.body
        if b.block_type == "call_to_action"
    ]
    customers = Segment.objects.get(slug="customers").pk
    assert audiences == [
        ("Try before you buy", "everyone", []),
        (SIGN_UP, "anonymous", []),
        (CUSTOMERS, "segments", [customers]),
    ]


def test_visitors_see_the_call_to_action_for_them(demo: None) -> None:
    anonymous = _page(Client())
    assert SIGN_UP in anonymous and CUSTOMERS not in anonymous
    assert "Try before you buy" in anonymous
    customer = Client()
    assert customer.login(username="customer", password="customer-demo")  # noqa: S106
    signed_in = _page(customer)
    assert CUSTOMERS in signed_in and SIGN_UP not in signed_in


def test_seed_adds_the_section_to_the_guide_of_an_earlier_demo(demo: None) -> None:
    page = ContentPage.objects.get(slug="choosing-a-rain-jacket")
    body = copy.deepcopy(list(page.body.raw_data))
    at = next(i for i, item in enumerate(body) if item["value"] == SECTION)
    page.body = body[:at]
    page.save_revision().publish()
    _seed()
    page = ContentPage.objects.get(pk=page.pk)
    headings = [b.value["heading"] for b in page.body if b.block_type == "call_to_action"]
    assert headings == ["Try before you buy", SIGN_UP, CUSTOMERS]
    anonymous = _page(Client())
    assert SIGN_UP in anonymous and CUSTOMERS not in anonymous
