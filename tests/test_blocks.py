"""PersonalizedBlock and GatedBlock: stored format, decisions, rendering."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.template import Context, Template, TemplateSyntaxError
from wagtail import blocks

from cms_site.home.models import ContentPage, HomePage
from personalize.blocks import GatedBlock, PersonalizedBlock
from personalize.models import Segment
from personalize.visitors.registry import current_segments
from tests.conftest import IPHONE

pytestmark = pytest.mark.django_db


def _block() -> PersonalizedBlock:
    return PersonalizedBlock(
        [("heading", blocks.CharBlock()), ("paragraph", blocks.RichTextBlock())]
    )


def _stored(first: int, second: int) -> dict[str, Any]:
    return {
        "variants": [
            {
                "label": "Phones",
                "segments": [first],
                "content": [{"type": "heading", "value": "For phones", "id": "a1"}],
            },
            {
                "label": "Austria",
                "segments": [second, 999_999],
                "content": [{"type": "heading", "value": "Servus", "id": "a2"}],
            },
        ],
        "default": [{"type": "heading", "value": "Hello", "id": "a3"}],
    }


def _with_keys(raw: dict[str, Any]) -> dict[str, Any]:
    """The stored format as saved now: keys, and the (empty) A/B test fields of each variant."""
    variants = [
        {
            **variant,
            "alternatives": [],
            "weight": 50,
            "holdout": 0,
            "key": f"{index + 1:032x}",
        }
        for index, variant in enumerate(raw["variants"])
    ]
    return {**raw, "variants": variants, "key": "f" * 32}


def test_stored_format_round_trips_exactly() -> None:
    block = _block()
    raw = _with_keys(_stored(1, 2))
    assert block.get_prep_value(block.to_python(raw)) == raw


def test_content_saved_before_keys_loads_with_empty_keys_and_no_test(
    segment_factory: Any,
) -> None:
    first = segment_factory(condition={"device.type": "mobile"})
    second = segment_factory(condition={"geo.country": "AT"})
    block = _block()
    raw = _stored(first.pk, second.pk)
    raw["variants"][1]["segments"] = [second.pk]
    value = block.to_python(raw)
    assert value["key"] == ""
    assert [v["key"] for v in value["variants"]] == ["", ""]
    assert [list(v["alternatives"]) for v in value["variants"]] == [[], []]
    # Saving gives each a key.
    cleaned = block.clean(value)
    assert len(cleaned["key"]) == 32
    assert all(len(v["key"]) == 32 for v in cleaned["variants"])


def test_gated_stored_format_round_trips_exactly() -> None:
    block = GatedBlock([("paragraph", blocks.RichTextBlock())])
    raw = {
        "requirement": "segment",
        "groups": ["Customers"],
        "segments": [3, 4],
        "teaser": "<p>Read on</p>",
        "cta_label": "Register",
        "cta_page": None,
        "content": [{"type": "paragraph", "value": "<p>Secret</p>", "id": "b1"}],
    }
    assert block.get_prep_value(block.to_python(raw)) == raw


@pytest.fixture
def segments(segment_factory: Any) -> dict[str, Segment]:
    return {
        "mobile": segment_factory(
            "Mobile visitors",
            slug="mobile",
            rules=[{"type": "device_type", "value": {"values": ["mobile"]}}],
        ),
        "austria": segment_factory(
            "From Austria", slug="austria", rules=[{"type": "country", "value": {"values": ["AT"]}}]
        ),
        "off": segment_factory(
            "Disabled",
            slug="off",
            enabled=False,
            rules=[{"type": "device_type", "value": {"values": ["desktop"]}}],
        ),
    }


class _Visitor:
    def __init__(self, ids: set[int]) -> None:
        self.segment_ids = frozenset(ids)
        self.segment_set = current_segments()
        self.authenticated = False
        self.user_groups: frozenset[str] = frozenset()


class _Request:
    def __init__(self, ids: set[int]) -> None:
        self.visitor = _Visitor(ids)

    def get_full_path(self) -> str:
        return "/here/?a=1"


def _decide(block: Any, raw: dict[str, Any], ids: set[int]) -> Any:
    return block.decide(block.to_python(raw), {"request": _Request(ids)})


def test_first_matching_variant_in_editor_order_wins(segments: dict[str, Segment]) -> None:
    block, raw = _block(), _stored(segments["mobile"].pk, segments["austria"].pk)
    both = _decide(block, raw, {segments["mobile"].pk, segments["austria"].pk})
    assert (both.index, both.label, both.reason) == (0, "Phones", "matched Mobile visitors")
    austria = _decide(block, raw, {segments["austria"].pk})
    assert (austria.index, austria.label) == (1, "Austria")
    nobody = _decide(block, raw, set())
    assert nobody.index is None
    assert nobody.reason == "no variant's segment matched: default content"


def test_variant_of_disabled_or_deleted_segments_is_skipped(segments: dict[str, Segment]) -> None:
    block = _block()
    raw = _stored(segments["off"].pk, 424242)
    decision = _decide(block, raw, {segments["off"].pk, 424242})
    assert decision.index is None


def test_render_without_template_changes(segments: dict[str, Segment]) -> None:
    block = _block()
    value = block.to_python(_stored(segments["mobile"].pk, segments["austria"].pk))
    html = block.render(value, {"request": _Request({segments["austria"].pk})})
    assert html.strip() == "Servus"
    assert "For phones" not in html
    assert block.render(value, {}).strip() == "Hello"


def test_empty_default_renders_nothing(segments: dict[str, Segment]) -> None:
    block = _block()
    raw = {**_stored(segments["mobile"].pk, segments["austria"].pk), "default": []}
    assert block.render(block.to_python(raw), {"request": _Request(set())}).strip() == ""


def test_gate_requirements() -> None:
    block = GatedBlock([("paragraph", blocks.RichTextBlock())])
    raw = {
        "requirement": "group",
        "groups": ["Customers"],
        "segments": [],
        "teaser": "<p>Teaser</p>",
        "cta_label": "Join",
        "cta_page": None,
        "content": [{"type": "paragraph", "value": "<p>Secret</p>", "id": "c1"}],
    }
    value = block.to_python(raw)
    request = _Request(set())
    request.visitor.authenticated = True
    request.visitor.user_groups = frozenset({"Beta"})
    locked = block.render(value, {"request": request})
    assert "Teaser" in locked and "Secret" not in locked
    assert 'href="/accounts/login/?next=%2Fhere%2F%3Fa%3D1"' in locked
    request.visitor.user_groups = frozenset({"Customers"})
    opened = block.render(value, {"request": request})
    assert "Secret" in opened and "Teaser" not in opened


def test_unknown_requirement_fails_closed() -> None:
    from personalize.blocks.decisions import gate

    decision = gate("vip", authenticated=True)
    assert decision.locked is True


def test_search_index_gets_default_and_teaser_only(segments: dict[str, Segment]) -> None:
    block = _block()
    value = block.to_python(_stored(segments["mobile"].pk, segments["austria"].pk))
    assert block.get_searchable_content(value) == ["Hello"]
    gated = GatedBlock([("paragraph", blocks.RichTextBlock())])
    gated_value = gated.to_python(
        {
            "requirement": "authenticated",
            "groups": [],
            "segments": [],
            "teaser": "<p>Teaser words</p>",
            "cta_label": "Join",
            "cta_page": None,
            "content": [{"type": "paragraph", "value": "<p>Secret words</p>", "id": "d1"}],
        }
    )
    assert gated.get_searchable_content(gated_value) == ["Teaser words"]


def test_segment_template_tag_and_filter(segments: dict[str, Segment], rf: Any) -> None:
    from django.contrib.auth.models import AnonymousUser

    from personalize.visitors.visitor import Visitor

    request = rf.get("/", headers={"User-Agent": IPHONE})
    request.user = AnonymousUser()
    request.visitor = Visitor(request)
    template = Template(
        '{% load personalize_tags %}{% segment "mobile" %}phone{% else %}other{% endsegment %}'
        '|{% segment "austria" %}AT{% endsegment %}|{{ request|in_segment:"mobile" }}'
        '|{{ request.visitor|in_segment:"austria" }}'
    )
    assert template.render(Context({"request": request})) == "phone||True|False"
    assert template.render(Context({})) == "other||False|False"


def test_segment_tag_needs_one_argument() -> None:
    with pytest.raises(TemplateSyntaxError, match="takes one argument"):
        Template("{% load personalize_tags %}{% segment %}x{% endsegment %}")


# --- The demo pages over HTTP -------------------------------------------------------------------


@pytest.fixture
def demo(db: Any, settings: Any) -> None:
    settings.PERSONALIZE = {**settings.PERSONALIZE, "GATE_URL": "/accounts/register/"}
    call_command("seed_demo", stdout=io.StringIO())


GUIDE = "/guides/layering-for-ski-touring/"
SECRET = "Base: merino, 150 g/m²"


def test_variant_per_visitor_over_http(client: Any, demo: None) -> None:
    austria = client.get(
        "/", headers={"CF-IPCountry": "AT"}, REMOTE_ADDR="10.0.0.1"
    ).content.decode()
    germany_phone = client.get(
        "/", headers={"CF-IPCountry": "DE", "User-Agent": IPHONE}, REMOTE_ADDR="10.0.0.1"
    ).content.decode()
    elsewhere = client.get(
        "/", headers={"CF-IPCountry": "US"}, REMOTE_ADDR="10.0.0.1"
    ).content.decode()
    assert "Free shipping to Germany, Austria and Switzerland" in austria
    assert "New here?" not in austria
    assert "Free shipping" in germany_phone  # DACH comes before phones in the editor's order
    assert "Call the workshop" not in germany_phone
    assert "New here?" in elsewhere
    for variant in ("10% off", "Free shipping", "Call the workshop"):
        assert variant not in elsewhere


def test_personalized_page_is_private(client: Any, demo: None) -> None:
    response = client.get("/")
    assert "private" in response["Cache-Control"]


def test_gated_content_locked_then_open_after_registering(client: Any, demo: None) -> None:
    locked = client.get(GUIDE).content.decode()
    assert SECRET not in locked
    assert "free for registered readers" in locked
    assert 'href="/accounts/register/?next=%2Fguides%2Flayering-for-ski-touring%2F"' in locked
    response = client.post(
        "/accounts/register/",
        {
            "username": "reader",
            "first_name": "Rea",
            "email": "reader@example.com",
            "password1": "a-long-demo-password-1",
            "password2": "a-long-demo-password-1",
            "next": GUIDE,
        },
    )
    assert response.status_code == 302
    assert response["Location"] == GUIDE
    opened = client.get(GUIDE).content.decode()
    assert SECRET in opened
    assert "free for registered readers" not in opened


def test_registration_refuses_offsite_next(client: Any, demo: None) -> None:
    response = client.post(
        "/accounts/register/",
        {
            "username": "r2",
            "first_name": "R",
            "email": "r2@example.com",
            "password1": "a-long-demo-password-1",
            "password2": "a-long-demo-password-1",
            "next": "https://evil.example/",
        },
    )
    assert response["Location"] == "/"


def test_api_v2_returns_only_the_chosen_variant_and_the_teaser(client: Any, demo: None) -> None:
    home = HomePage.objects.get()
    guide = ContentPage.objects.get(slug="layering-for-ski-touring")
    data = client.get(
        f"/api/v2/pages/{home.pk}/", headers={"CF-IPCountry": "AT"}, REMOTE_ADDR="10.0.0.1"
    ).json()
    text = json.dumps(data)
    assert data["body"][0]["value"]["variant"] == "DACH: free shipping"
    assert "Free shipping" in text
    for other in ("10% off", "Call the workshop", "New here?"):
        assert other not in text
    gated = json.dumps(client.get(f"/api/v2/pages/{guide.pk}/").json())
    assert "free for registered readers" in gated
    assert "merino" not in gated
    assert '"locked": true' in gated


def test_api_v2_opens_gate_for_logged_in_user(client: Any, demo: None) -> None:
    guide = ContentPage.objects.get(slug="layering-for-ski-touring")
    client.login(username="customer", password="customer-demo")  # noqa: S106
    text = json.dumps(client.get(f"/api/v2/pages/{guide.pk}/").json())
    assert "merino" in text
    assert '"locked": false' in text


def test_search_finds_teaser_not_gated_text(client: Any, demo: None) -> None:
    from wagtail.search.backends import get_search_backend

    backend = get_search_backend()
    assert [p.slug for p in backend.search("registered readers", ContentPage)] == [
        "layering-for-ski-touring"
    ]
    assert list(backend.search("merino", ContentPage)) == []
    assert list(backend.search("WELCOME10", HomePage)) == []


def test_zero_extra_queries_on_warm_personalized_page(
    client: Any, demo: None, django_assert_max_num_queries: Any, settings: Any
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get("/", headers={"CF-IPCountry": "AT"}, REMOTE_ADDR="10.0.0.1")
    with CaptureQueriesContext(connection) as personalized:
        client.get("/", headers={"CF-IPCountry": "AT"}, REMOTE_ADDR="10.0.0.1")
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if "PersonalizeMiddleware" not in m]
    client.get("/")
    with CaptureQueriesContext(connection) as plain:
        client.get("/")
    assert len(personalized) == len(plain)


def test_gate_for_group_member_and_other_user(client: Any, demo: None) -> None:
    guide = ContentPage.objects.get(slug="layering-for-ski-touring")
    body = guide.body.raw_data
    body[1]["value"]["requirement"] = "group"
    body[1]["value"]["groups"] = ["Customers"]
    guide.body = body
    guide.save_revision().publish()
    outsider = User.objects.create_user("out", "o@example.com", "pw")
    client.force_login(outsider)
    assert SECRET not in client.get(GUIDE).content.decode()
    member = User.objects.create_user("in", "i@example.com", "pw")
    member.groups.add(Group.objects.get(name="Customers"))
    client.force_login(member)
    assert SECRET in client.get(GUIDE).content.decode()


def test_page_body_rendered_without_context_uses_the_request_visitor(
    client: Any, demo: None, settings: Any, tmp_path: Any
) -> None:
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "home_page.html").write_text("<main>{{ page.body }}</main>")
    (tmp_path / "home" / "content_page.html").write_text("<main>{{ page.body }}</main>")
    template = settings.TEMPLATES[0]
    settings.TEMPLATES = [{**template, "DIRS": [tmp_path, *template["DIRS"]]}]
    austria = client.get("/", headers={"CF-IPCountry": "AT"}, REMOTE_ADDR="10.0.0.1")
    assert "Free shipping to Germany" in austria.content.decode()
    assert "New here?" not in austria.content.decode()
    locked = client.get(GUIDE).content.decode()
    assert 'href="/accounts/register/?next=%2Fguides%2Flayering-for-ski-touring%2F"' in locked
    assert SECRET not in locked


def test_outside_a_request_blocks_fall_back_safely(demo: None) -> None:
    home = HomePage.objects.get()
    html = str(home.body)
    assert "New here?" in html
    assert "Free shipping" not in html
    guide = ContentPage.objects.get(slug="layering-for-ski-touring")
    assert SECRET not in str(guide.body)


def _gate_value(requirement: str, segments: list[Any], groups: list[str]) -> Any:
    from personalize.blocks import GatedBlock

    block = GatedBlock([("heading", blocks.CharBlock())])
    value = block.to_python(
        {
            "requirement": requirement,
            "groups": groups,
            "segments": segments,
            "teaser": "<p>Teaser</p>",
            "cta_label": "Register to read on",
            "cta_page": None,
            "content": [{"type": "heading", "value": "Secret"}],
        }
    )
    return block, value


def test_a_registered_only_gate_publishes_with_an_empty_segment_row(db: Any) -> None:
    block, value = _gate_value("authenticated", [None], ["Customers"])
    cleaned = block.clean(value)
    assert list(cleaned["segments"]) == []
    assert cleaned["groups"] == []
    assert block.get_prep_value(cleaned)["segments"] == []


def test_gates_on_segments_or_groups_need_one(db: Any, segment_factory: Any) -> None:
    segment = segment_factory("Members")
    block, value = _gate_value("segment", [None], [])
    with pytest.raises(blocks.StructBlockValidationError) as empty:
        block.clean(value)
    assert list(empty.value.block_errors) == ["segments"]
    block, value = _gate_value("group", [], [])
    with pytest.raises(blocks.StructBlockValidationError) as no_group:
        block.clean(value)
    assert list(no_group.value.block_errors) == ["groups"]
    block, value = _gate_value("segment", [None, segment.pk], [])
    assert list(block.clean(value)["segments"]) == [segment.pk]
