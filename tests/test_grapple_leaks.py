"""grapple's generic fields (``rawValue``, ``value``, ``blocks`` of StructBlock, its raw
StreamField scalar) without and with the integration: stored variants and locked content reach
only the visitors who qualify for them."""

from __future__ import annotations

import io
import json
from types import SimpleNamespace
from typing import Any

import graphene
import pytest
from django.core.management import call_command
from grapple.registry import registry
from grapple.types.streamfield import (
    GenericStreamFieldInterface,
    StreamFieldInterface,
    StructBlockItem,
)
from wagtail import blocks
from wagtail.blocks import StructValue

from cms_site.home.models import ContentPage, HomePage, content_blocks
from personalize.blocks import PersonalizedBlock
from personalize.contrib.grapple.context import PAGE_ATTRIBUTE
from personalize.contrib.grapple.middleware import PersonalizeGrappleMiddleware
from personalize.contrib.grapple.types import BLOCK_TYPES
from tests.conftest import without_clock_segments
from tests.test_grapple import GUIDE, KEY, SECRET, grapple, relay

pytestmark = pytest.mark.django_db

#: Each variant's text on the demo's home page; None is the default content.
TEXTS = {
    "Ads: first-order offer": "10% off your first order",
    "DACH: free shipping": "Free shipping to Germany",
    "Phones: call us": "Call the workshop",
    None: "New here?",
}

#: grapple's generic fields all the way down a block's stored value (variants, gated content).
DEEP = """
fragment Leaf on StreamFieldInterface {
  field
  ... on CharBlock { rawValue }
  ... on TextBlock { rawValue }
  ... on RichTextBlock { rawValue }
}
fragment Deep on StreamFieldInterface {
  ...Leaf
  ... on StructBlock { blocks {
    ...Leaf
    ... on StreamBlock { blocks { ...Leaf ... on StructBlock { blocks { ...Leaf } } } }
    ... on ListBlock { items { ...Leaf ... on StructBlock { blocks {
      ...Leaf
      ... on StreamBlock { blocks { ...Leaf ... on StructBlock { blocks { ...Leaf } } } }
    } } } }
  } }
}
"""
GENERIC = (
    DEEP
    + """
query ($path: String) {
  page(urlPath: $path) {
    ... on HomePage { body { rawValue ...Deep } }
    ... on ContentPage { body { rawValue ...Deep } }
  }
}
"""
)


@pytest.fixture
def demo(db: Any) -> None:
    call_command("seed_demo", stdout=io.StringIO())
    without_clock_segments()


def test_without_the_integration_grapple_leaks_every_variant(
    demo: None, make_request: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # grapple as it is without personalize.contrib.grapple: the blocks are plain StructBlocks.
    from grapple.schema import create_schema

    for block_class in BLOCK_TYPES:
        monkeypatch.delitem(registry.streamfield_blocks, block_class)
    schema = create_schema()
    query = GENERIC.replace("rawValue ...Deep", "...Deep")
    result = schema.execute(query, variable_values={"path": "/"}, context_value=make_request("/"))
    assert not result.errors, result.errors
    text = json.dumps(result.data)
    for variant in TEXTS.values():
        assert variant in text  # every visitor reads every variant
    guide = schema.execute(
        query, variable_values={"path": GUIDE}, context_value=make_request(GUIDE)
    )
    assert SECRET in json.dumps(guide.data)  # and the gated content, signed out


@pytest.mark.parametrize(("country", "variant"), [("US", None), ("AT", "DACH: free shipping")])
def test_generic_fields_hold_only_the_visitors_variant(
    client: Any, demo: None, country: str, variant: str | None
) -> None:
    result = grapple(client, GENERIC, {"path": "/"}, headers=relay({"country": country}))
    assert "errors" not in result, result
    text = json.dumps(result)
    assert [label for label, shown in TEXTS.items() if shown in text] == [variant]
    raw = json.loads(result["data"]["page"]["body"][0]["rawValue"])
    assert raw["variant"] == variant
    assert "variants" not in raw


def test_generic_fields_hold_locked_content_only_when_open(client: Any, demo: None) -> None:
    locked = json.dumps(grapple(client, GENERIC, {"path": GUIDE}))
    assert SECRET not in locked
    assert "free for registered readers" in locked
    client.login(username="customer", password="customer-demo")  # noqa: S106
    opened = json.dumps(grapple(client, GENERIC, {"path": GUIDE}))
    assert SECRET in opened


class _Leaks(graphene.ObjectType):
    section = graphene.Field(StreamFieldInterface)
    stream = graphene.Field(GenericStreamFieldInterface)


def _schema() -> graphene.Schema:
    return graphene.Schema(query=_Leaks, types=list(registry.streamfield_blocks.values()))


def _nested_root() -> Any:
    """A site's own StructBlock holding the home page's personalized block, and the raw body."""
    home = HomePage.objects.get()
    personalized = PersonalizedBlock(content_blocks())  # a block of the site's own struct
    section = blocks.StructBlock([("title", blocks.CharBlock()), ("offer", personalized)])
    section.set_name("section")
    value = StructValue(section, [("title", "Offers"), ("offer", home.body[0].value)])
    return SimpleNamespace(section=StructBlockItem("s1", section, value), stream=home.body)


NESTED = DEEP + "{ section { rawValue ...Deep ... on StructBlock { blocks { rawValue } } } stream }"


def test_struct_blocks_and_raw_streamfields(make_request: Any, demo: None) -> None:
    schema = _schema()
    austria = make_request("/", headers={"CF-IPCountry": "AT"}, remote_addr="10.0.0.1")
    plain = schema.execute(
        DEEP + "{ section { ...Deep } stream }", root=_nested_root(), context_value=austria
    )
    assert not plain.errors
    leaked = json.dumps(plain.data, default=list)  # the raw StreamField is a RawDataView
    assert all(text in leaked for text in TEXTS.values())  # the leak
    guarded = schema.execute(
        NESTED,
        root=_nested_root(),
        context_value=make_request("/", headers={"CF-IPCountry": "AT"}, remote_addr="10.0.0.1"),
        middleware=[PersonalizeGrappleMiddleware()],
    )
    assert not guarded.errors, guarded.errors
    text = json.dumps(guarded.data)
    assert [label for label, shown in TEXTS.items() if shown in text] == ["DACH: free shipping"]
    section = json.loads(guarded.data["section"]["rawValue"])
    assert section["title"] == "Offers"
    assert section["offer"]["variant"] == "DACH: free shipping"
    offer = guarded.data["section"]["blocks"][1]
    assert offer["field"] == "offer"
    assert json.loads(offer["rawValue"])["variant"] == "DACH: free shipping"
    assert guarded.data["stream"][0]["type"] == "personalized"
    assert guarded.data["stream"][0]["value"]["variant"] == "DACH: free shipping"


def test_hidden_audience_blocks_are_left_out(client: Any, demo: None) -> None:
    cta = {"heading": "Members-only offer", "text": "For you.", "link_label": "Go"}
    audience = {"who": "authenticated", "segments": [], "groups": [], "key": "a" * 32}
    page = ContentPage(
        title="Offers",
        slug="offers",
        body=[
            ("heading", "Offers"),
            ("call_to_action", {**cta, "link_url": "/journal/", "audience": audience}),
        ],
    )
    HomePage.objects.get().add_child(instance=page)
    page.save_revision().publish()
    query = GENERIC.replace("rawValue ...Deep", "rawValue blockType ...Deep")
    anonymous = grapple(client, query, {"path": "/offers/"}, headers=KEY)
    assert "errors" not in anonymous, anonymous
    assert [b["blockType"] for b in anonymous["data"]["page"]["body"]] == ["CharBlock"]
    assert "Members-only" not in json.dumps(anonymous)
    client.login(username="customer", password="customer-demo")  # noqa: S106
    member = grapple(client, query, {"path": "/offers/"})["data"]["page"]["body"]
    assert [b["blockType"] for b in member] == ["CharBlock", "CallToActionBlock"]
    assert json.loads(member[1]["rawValue"])["heading"] == "Members-only offer"
    assert "audience" not in member[1]["rawValue"]
    assert [b["rawValue"] for b in member[1]["blocks"]][:1] == ["Members-only offer"]
    assert all("authenticated" not in b["rawValue"] for b in member[1]["blocks"])


def test_grapples_own_view_with_the_middleware_in_graphene_settings(
    rf: Any, demo: None, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.contrib.auth.models import AnonymousUser
    from graphene_django import settings as graphene_settings_module
    from graphene_django import views as graphene_views
    from graphene_django.views import GraphQLView

    from personalize.contrib.grapple.views import grapple_schema

    settings.GRAPHENE = {
        **settings.GRAPHENE,
        "MIDDLEWARE": ["personalize.contrib.grapple.middleware.PersonalizeGrappleMiddleware"],
    }
    # graphene-django's views keep the settings object they imported: give them one read from
    # these settings, as a process started with them would have.
    fresh = graphene_settings_module.GrapheneSettings(
        None, graphene_settings_module.DEFAULTS, graphene_settings_module.IMPORT_STRINGS
    )
    monkeypatch.setattr(graphene_views, "graphene_settings", fresh)
    view = GraphQLView.as_view(schema=grapple_schema())
    body = json.dumps({"query": GENERIC, "variables": {"path": "/"}})
    request = rf.post("/g/", body, content_type="application/json", HTTP_CF_IPCOUNTRY="US")
    request.user = AnonymousUser()
    result = json.loads(view(request).content)
    assert "errors" not in result, result
    text = json.dumps(result)
    assert [label for label, shown in TEXTS.items() if shown in text] == [None]
    # The middleware ran: it noted the page the blocks were decided on.
    assert getattr(request, PAGE_ATTRIBUTE) == HomePage.objects.get()
