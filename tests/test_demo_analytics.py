"""The demo's analytics: seeded goals, the shop's cart funnel and the phones' A/B/n test."""

from __future__ import annotations

import copy
import io
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from wagtail.models import Page

from cms_site.home.demo_loader import key
from cms_site.home.models import ContentPage, HomePage, ProductPage
from personalize.analytics.experiments import experiments_changed
from personalize.analytics.goals import goals_changed
from personalize.analytics.store import counter_store
from personalize.models import Experiment, Funnel, Goal, Segment
from personalize.profiles.scoring import config_changed
from personalize.rules.bucketing import bucket, choose
from personalize.signals.consent import dump_consent_cookie
from personalize.visitors.identity import dump_visitor_id
from personalize.visitors.registry import segments_changed
from tests.conftest import IPHONE, WINDOWS_CHROME, without_clock_segments

pytestmark = pytest.mark.django_db

JACKET = "/shop/alpine-shell-jacket/"
SKINS = "/shop/touring-skins/"
#: The home page's phones variant and the try-it page's analytics section (demo_content/pages/).
PHONES = "Phones: call us"
ANALYTICS_HEADING = "Analytics and A/B tests"
BLOCK_KEY = key("home/welcome")
PHONES_KEY = key(f"home/welcome/{PHONES}")
#: The phones variant's weights (control first) and holdout, as seeded.
WEIGHTS = [40.0, 30.0, 30.0]
HOLDOUT = 0.10
#: What each alternative of the phones' test shows (None: held out, the default content).
COPY = {
    0: "Questions? Call the workshop",
    1: "Message the workshop on WhatsApp",
    2: "Come by for a fitting",
    None: "New here?",
}


def seed() -> str:
    """Run seed_demo and make this process see its changes at once (no commit in a test)."""
    output = io.StringIO()
    call_command("seed_demo", stdout=output)
    config_changed()
    segments_changed()
    goals_changed()
    experiments_changed()
    return output.getvalue()


@pytest.fixture
def demo(db: Any) -> None:
    seed()
    without_clock_segments()


def browser(*purposes: str, agent: str = WINDOWS_CHROME, visitor_id: str | None = None) -> Client:
    """A client with a browser's User-Agent, the given consent and, optionally, a visitor id."""
    client = Client(headers={"User-Agent": agent})
    if purposes:
        client.cookies["pz_consent"] = dump_consent_cookie(purposes, time.time())
    if visitor_id:
        client.cookies["pz_vid"] = dump_visitor_id(visitor_id)
    return client


def live(prefix: str) -> dict[str, int]:
    """Today's counters not yet flushed whose field starts with ``prefix``."""
    today = datetime.now(UTC).date()
    counts = counter_store().live_counts([today])[today]
    return {field: n for field, n in counts.items() if field.startswith(prefix)}


def labels(response: Any) -> list[str]:
    """The segment parts of the counters a request's visitor adds (``["-"]`` for none)."""
    return [str(pk) for pk in sorted(response.wsgi_request.visitor.segment_ids)] or ["-"]


def goal(name: str) -> Goal:
    return Goal.objects.get(name=name)


def alternative_of(visitor_id: str) -> int | None:
    return choose(bucket(visitor_id, PHONES_KEY), WEIGHTS, HOLDOUT)


def visitor_with(alternative: int | None) -> str:
    """A visitor id the phones' test assigns ``alternative`` to."""
    return next(
        uuid.UUID(int=n).hex
        for n in range(1, 1000)
        if alternative_of(uuid.UUID(int=n).hex) == alternative
    )


# Seeding


def test_seed_demo_twice_creates_no_goal_funnel_or_experiment_twice(demo: None) -> None:
    counts = (
        Goal.objects.count(),
        Funnel.objects.count(),
        Experiment.objects.count(),
        Page.objects.count(),
    )
    assert "Demo content ready." in seed()
    assert (
        Goal.objects.count(),
        Funnel.objects.count(),
        Experiment.objects.count(),
        Page.objects.count(),
    ) == counts
    assert counts[:3] == (5, 1, 1)


def test_seeded_goals_and_the_cart_funnel(demo: None) -> None:
    goals = {g.name: (g.kind, g.event) for g in Goal.objects.all()}
    assert goals == {
        "Viewed a product": ("event", "product_view"),
        "Added to cart": ("event", "add_to_cart"),
        "Checked out": ("event", "checkout"),
        "Registered": ("registration", ""),
        "Requested a fitting": ("event", "demo_request"),
    }
    for row in Goal.objects.all():
        row.full_clean()
    funnel = Funnel.objects.get(name="Cart")
    names = [Goal.objects.get(pk=pk).name for pk in funnel.goal_ids()]
    assert names == ["Viewed a product", "Added to cart", "Checked out"]


def test_seeded_experiment_runs_on_the_phones_variant(demo: None) -> None:
    home = HomePage.objects.get()
    experiment = Experiment.objects.get()
    assert experiment.key == PHONES_KEY
    assert experiment.page_id == home.pk
    assert experiment.block_key == BLOCK_KEY
    assert experiment.name == "Home page: phones call, message or come in?"
    assert experiment.status == Experiment.RUNNING
    assert experiment.started_at is not None
    assert experiment.goal == goal("Requested a fitting")
    assert experiment.holdout == 10
    assert experiment.arms == [
        {"label": "Phones: call us", "weight": 40},
        {"label": "B: WhatsApp us", "weight": 30},
        {"label": "C: book a fitting", "weight": 30},
    ]
    welcome = home.body[0].value
    assert welcome["key"] == BLOCK_KEY
    assert all(len(variant["key"]) == 32 for variant in welcome["variants"])
    assert len({variant["key"] for variant in welcome["variants"]}) == 6


def test_seed_keeps_what_editors_decided_about_the_experiment(demo: None) -> None:
    Experiment.objects.update(status=Experiment.PAUSED, name="Phones (paused for the sale)")
    seed()
    experiment = Experiment.objects.get()
    assert (experiment.status, experiment.name) == (
        Experiment.PAUSED,
        "Phones (paused for the sale)",
    )


def _as_from_an_earlier_run(page: Page, body: list[dict[str, Any]]) -> None:
    page.body = body
    page.save_revision().publish()


def _earlier_home() -> HomePage:
    """Make the home page look seeded before keys and tests existed."""
    home = HomePage.objects.get()
    body = copy.deepcopy(list(home.body.raw_data))
    welcome = body[0]["value"]
    welcome.pop("key")
    for variant in welcome["variants"]:
        for name in ("key", "alternatives", "weight", "holdout"):
            variant.pop(name, None)
    _as_from_an_earlier_run(home, body)
    Experiment.objects.all().delete()
    return home


def _earlier_try_it() -> ContentPage:
    page = ContentPage.objects.get(slug="try-it")
    body = copy.deepcopy(list(page.body.raw_data))
    at = next(i for i, item in enumerate(body) if item["value"] == ANALYTICS_HEADING)
    del body[at : at + 2]
    _as_from_an_earlier_run(page, body)
    return page


def test_seed_adds_the_test_and_the_section_to_pages_of_an_earlier_run(demo: None) -> None:
    home, try_it = _earlier_home(), _earlier_try_it()
    assert not Experiment.objects.exists()
    seed()
    home = HomePage.objects.get(pk=home.pk)
    phones = next(v for v in home.body[0].value["variants"] if v["label"] == PHONES)
    assert [alt["label"] for alt in phones["alternatives"]] == [
        "B: WhatsApp us",
        "C: book a fitting",
    ]
    assert Experiment.objects.get().status == Experiment.RUNNING
    headings = [
        b.value for b in ContentPage.objects.get(pk=try_it.pk).body if b.block_type == "heading"
    ]
    assert headings.count(ANALYTICS_HEADING) == 1
    assert headings.index(ANALYTICS_HEADING) + 1 == headings.index(
        "What we know, and how to take it back"
    )


def test_seed_leaves_pages_an_editor_saved(demo: None) -> None:
    editor = get_user_model().objects.get(username="admin")
    home, try_it = _earlier_home(), _earlier_try_it()
    for page in (home, try_it):
        page.save_revision(user=editor).publish()
    seed()
    assert not Experiment.objects.exists()
    assert "key" not in HomePage.objects.get().body.raw_data[0]["value"]
    headings = [
        b.value for b in ContentPage.objects.get(pk=try_it.pk).body if b.block_type == "heading"
    ]
    assert ANALYTICS_HEADING not in headings


# The shop


def test_shop_lists_products_with_prices(client: Any, demo: None) -> None:
    html = client.get("/shop/").content.decode()
    assert "This is a demo shop" in html
    for title, price in [
        ("Alpine shell jacket", "€389"),
        ("Merino base layer", "€89"),
        ("Touring skins", "€165"),
    ]:
        assert f"<h3>{title}</h3>" in html
        assert f'<p class="card-price">{price}</p>' in html
    tags = {page.slug: sorted(page.tags.names()) for page in ProductPage.objects.all()}
    assert tags == {
        "alpine-shell-jacket": ["hiking", "rain-gear", "shop"],
        "merino-base-layer": ["layering", "shop", "ski-touring"],
        "touring-skins": ["shop", "ski-touring", "skiing"],
    }


def test_product_page_has_a_price_and_an_add_to_cart_form(client: Any, demo: None) -> None:
    jacket = ProductPage.objects.get(slug="alpine-shell-jacket")
    html = client.get(JACKET).content.decode()
    assert '<p class="price">€389 <span class="muted">incl. VAT</span></p>' in html
    assert '<form class="add-to-cart" method="post" action="/demo/cart/add/">' in html
    assert f'<input type="hidden" name="product" value="{jacket.pk}">' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert "Return it within 60 days, worn or not." in html


def test_cart_flow_counts_goals_and_the_funnel(demo: None) -> None:
    shopper = browser("analytics")
    jacket = ProductPage.objects.get(slug="alpine-shell-jacket")
    viewed, added, checked_out = (
        goal("Viewed a product"),
        goal("Added to cart"),
        goal("Checked out"),
    )
    cart = Funnel.objects.get(name="Cart")

    segments = labels(shopper.get(JACKET))
    assert live("goal|") == {f"goal|{viewed.pk}|{s}": 1 for s in segments}
    assert live("funnel|") == {f"funnel|{cart.pk}|0|{s}": 1 for s in segments}

    response = shopper.post("/demo/cart/add/", {"product": jacket.pk})
    assert response.status_code == 302
    assert response["Location"] == "/demo/cart/"
    page = shopper.get("/demo/cart/").content.decode()
    assert "Alpine shell jacket is in your cart." in page
    assert "this step counts in the shop’s “Cart” funnel" in page
    assert '<td class="num">€389</td>' in page
    assert '<form class="checkout" method="post" action="/demo/cart/checkout/">' in page

    response = shopper.post("/demo/cart/checkout/")
    assert response.status_code == 302
    assert response["Location"] == "/demo/cart/thank-you/"
    thanks = shopper.get("/demo/cart/thank-you/").content.decode()
    assert "Thank you for your order" in thanks
    assert "nothing was charged and nothing will be shipped" in thanks
    assert "Your visit went through the whole “Cart” funnel" in thanks

    assert live("goal|") == {
        f"goal|{g.pk}|{s}": 1 for g in (viewed, added, checked_out) for s in segments
    }
    assert live("funnel|") == {
        f"funnel|{cart.pk}|{step}|{s}": 1 for step in range(3) for s in segments
    }
    assert "Your cart is empty" in shopper.get("/demo/cart/").content.decode()


def test_abandoned_cart_stops_the_funnel_at_the_second_step(demo: None) -> None:
    shopper = browser("analytics")
    skins = ProductPage.objects.get(slug="touring-skins")
    segments = labels(shopper.get(SKINS))
    shopper.get(SKINS)  # a second view counts a goal completion, not another funnel visitor
    shopper.post("/demo/cart/add/", {"product": skins.pk})
    shopper.post("/demo/cart/add/", {"product": skins.pk})
    cart = Funnel.objects.get(name="Cart")
    assert live("funnel|") == {
        f"funnel|{cart.pk}|{step}|{s}": 1 for step in range(2) for s in segments
    }
    assert live(f"goal|{goal('Added to cart').pk}|") == {
        f"goal|{goal('Added to cart').pk}|{s}": 2 for s in segments
    }
    page = shopper.get("/demo/cart/").content.decode()
    assert "<td>2</td>" in page
    assert '<td class="num">€330</td>' in page


def test_checkout_without_a_product_view_is_no_funnel_step(demo: None) -> None:
    shopper = browser("analytics")
    jacket = ProductPage.objects.get(slug="alpine-shell-jacket")
    shopper.post("/demo/cart/add/", {"product": jacket.pk})
    shopper.post("/demo/cart/checkout/")
    assert live("funnel|") == {}
    assert len(live("goal|")) == 2 * len(labels(shopper.get("/demo/cart/")))


def test_cart_without_consent_works_and_counts_nothing(demo: None) -> None:
    shopper = browser()
    jacket = ProductPage.objects.get(slug="alpine-shell-jacket")
    shopper.get(JACKET)
    shopper.post("/demo/cart/add/", {"product": jacket.pk})
    page = shopper.get("/demo/cart/").content.decode()
    assert "Alpine shell jacket is in your cart." in page
    assert "counts in the shop" not in page
    shopper.post("/demo/cart/checkout/")
    thanks = shopper.get("/demo/cart/thank-you/").content.decode()
    assert "Your checkout was not counted: you have not allowed analytics." in thanks
    assert live("goal|") == {}
    assert live("funnel|") == {}


def test_remove_from_cart(demo: None) -> None:
    shopper = browser()
    jacket = ProductPage.objects.get(slug="alpine-shell-jacket")
    shopper.post("/demo/cart/add/", {"product": jacket.pk})
    response = shopper.post("/demo/cart/remove/", {"product": jacket.pk})
    assert response["Location"] == "/demo/cart/"
    page = shopper.get("/demo/cart/").content.decode()
    assert "Alpine shell jacket is no longer in your cart." in page
    assert "Your cart is empty" in page


def test_cart_refuses_what_is_no_product(demo: None) -> None:
    shopper = browser("analytics")
    home = HomePage.objects.get()
    response = shopper.post("/demo/cart/add/", {"product": home.pk})
    assert response["Location"] == "/demo/cart/"
    assert "That product is no longer in the shop." in shopper.get("/demo/cart/").content.decode()
    checkout = shopper.post("/demo/cart/checkout/")
    assert checkout["Location"] == "/demo/cart/"
    assert "Your cart is empty: add a product first." in shopper.get("/demo/cart/").content.decode()
    assert shopper.get("/demo/cart/thank-you/")["Location"] == "/demo/cart/"
    assert shopper.get("/demo/cart/add/").status_code == 405
    assert shopper.post("/demo/cart/").status_code == 405
    assert live("goal|") == {}


def test_cart_forms_need_a_csrf_token(demo: None) -> None:
    shopper = Client(enforce_csrf_checks=True, headers={"User-Agent": WINDOWS_CHROME})
    jacket = ProductPage.objects.get(slug="alpine-shell-jacket")
    assert shopper.post("/demo/cart/add/", {"product": jacket.pk}).status_code == 403
    html = shopper.get(JACKET).content.decode()
    token = html.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    response = shopper.post("/demo/cart/add/", {"product": jacket.pk, "csrfmiddlewaretoken": token})
    assert response.status_code == 302


def test_product_previews_are_not_counted(demo: None) -> None:
    admin = browser("analytics")
    admin.login(username="admin", password="admin-demo")  # noqa: S106
    jacket = ProductPage.objects.get(slug="alpine-shell-jacket")
    response = admin.get(reverse("wagtailadmin_pages:view_draft", args=[jacket.pk]))
    assert response.status_code == 200
    assert "Alpine shell jacket" in response.content.decode()
    assert live("goal|") == {}


# The phones' A/B/n test


@pytest.mark.parametrize("alternative", [0, 1, 2, None])
def test_phone_visitor_sees_their_alternative_and_is_counted(
    demo: None, alternative: int | None
) -> None:
    home = HomePage.objects.get()
    phones = Segment.objects.get(slug="mobile-visitors")
    phone = browser("analytics", agent=IPHONE, visitor_id=visitor_with(alternative))
    html = phone.get("/").content.decode()
    assert COPY[alternative] in html
    assert all(text not in html for n, text in COPY.items() if n != alternative)
    if alternative is None:  # held out: the default content, counted for the variant
        field = f"imp|{home.pk}|{BLOCK_KEY}|{PHONES_KEY}|h|{phones.pk}"
    else:
        field = f"imp|{home.pk}|{BLOCK_KEY}|{PHONES_KEY}|{alternative}|{phones.pk}"
    assert live("imp|") == {field: 1}
    assert live("exp|") == {"exp" + field[3:]: 1}
    phone.get("/")
    assert live("imp|") == {field: 2}
    assert live("exp|") == {"exp" + field[3:]: 1}


def test_first_visit_mints_the_id_and_the_assignment_sticks(demo: None) -> None:
    phone = browser("analytics", agent=IPHONE)
    phone.get("/")
    visitor_id = phone.get("/").wsgi_request.visitor.visitor_id
    assert visitor_id is not None
    expected = COPY[alternative_of(visitor_id)]
    for _ in range(3):
        assert expected in phone.get("/").content.decode()


def test_every_alternative_is_served(demo: None) -> None:
    seen = set()
    for number in range(60):
        html = browser("analytics", agent=IPHONE, visitor_id=uuid.UUID(int=number + 7).hex)
        page = html.get("/").content.decode()
        seen |= {n for n, text in COPY.items() if text in page}
    assert seen == {0, 1, 2, None}


def test_a_fitting_request_converts_for_the_alternative_seen(demo: None) -> None:
    home = HomePage.objects.get()
    phones = Segment.objects.get(slug="mobile-visitors")
    fitting = goal("Requested a fitting")
    phone = browser("analytics", agent=IPHONE, visitor_id=visitor_with(2))
    assert "Come by for a fitting" in phone.get("/").content.decode()
    assert phone.post("/demo/fitting/", {"next": "/try-it/#fitting"}).status_code == 302
    dims = f"{home.pk}|{BLOCK_KEY}|{PHONES_KEY}|2|{phones.pk}"
    assert live("conv|") == {f"conv|{fitting.pk}|{dims}": 1}
    assert live(f"goal|{fitting.pk}|") == {f"goal|{fitting.pk}|{phones.pk}": 1}


def test_desktop_visitors_are_not_in_the_test(demo: None) -> None:
    home = HomePage.objects.get()
    html = browser("analytics", visitor_id=uuid.uuid4().hex).get("/").content.decode()
    assert "New here?" in html
    assert live("imp|") == {f"imp|{home.pk}|{BLOCK_KEY}|default|-|-": 1}


def test_try_it_page_explains_analytics_and_tests(client: Any, demo: None) -> None:
    html = client.get("/try-it/").content.decode()
    assert f"<h2>{ANALYTICS_HEADING}</h2>" in html
    assert "remembers for 7 days which version of each personalized block you saw" in html
    assert "split 40/30/30" in html
    assert '<a href="/shop/">shop</a>' in html
    assert "Reports → Personalization" in html
    assert "<code>manage.py personalize_flush_analytics</code>" in html
