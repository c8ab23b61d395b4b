"""Editors: preview modes per segment, "view as segment", segment usage, safe previews."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser, Group, Permission, User
from django.core.management import call_command
from django.urls import reverse

from cms_site.home.models import ContentPage, HomePage
from personalize.models import Segment
from personalize.pages import uses_personalized_blocks

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(db: Any) -> None:
    call_command("seed_demo", stdout=io.StringIO())


@pytest.fixture
def editor(client: Any, demo: None) -> Any:
    client.force_login(User.objects.get(username="admin"))
    return client


def test_preview_modes_list_every_segment(demo: None) -> None:
    modes = dict(HomePage.objects.get().preview_modes)
    assert modes[""] == "Default visitor"
    assert modes["segment:dach"] == "As: From DACH"
    assert modes["segment:mobile-visitors"] == "As: Mobile visitors"
    assert modes["simulation"] == "Simulated visitor"
    assert len(modes) == 2 + Segment.objects.filter(enabled=True).count()


def test_pages_without_personalized_blocks_keep_default_modes() -> None:
    from wagtail import blocks

    assert uses_personalized_blocks(blocks.StreamBlock([("text", blocks.CharBlock())])) is False
    assert uses_personalized_blocks(HomePage.body.field.stream_block) is True


def _preview(page: Any, rf: Any, mode: str, user: Any) -> str:
    request = rf.get("/")
    request.user = user
    response = page.serve_preview(request, mode)
    response.render()
    assert "no-store" in response["Cache-Control"]
    return response.content.decode()


def test_serve_preview_as_segment(demo: None, rf: Any) -> None:
    home = HomePage.objects.get()
    admin = User.objects.get(username="admin")
    assert "Free shipping to Germany" in _preview(home, rf, "segment:dach", admin)
    assert "10% off your first order" in _preview(home, rf, "segment:paid-search", admin)
    default = _preview(home, rf, "", admin)
    assert "New here?" in default
    assert "Free shipping" not in default


def test_preview_shows_gate_as_anonymous_visitor_sees_it(demo: None, rf: Any) -> None:
    guide = ContentPage.objects.get(slug="layering-for-ski-touring")
    html = _preview(guide, rf, "", User.objects.get(username="admin"))
    assert "free for registered readers" in html
    assert "Base: merino" not in html


def test_view_as_segment_for_editors(editor: Any) -> None:
    html = editor.get("/", {"pz_view_as": "paid-search"}).content.decode()
    assert "10% off your first order" in html
    response = editor.get("/", {"pz_view_as": "-"})
    assert "New here?" in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert "pz_attr" not in response.cookies


def test_view_as_ignored_for_visitors_and_non_editors(client: Any, demo: None) -> None:
    assert "10% off" not in client.get("/", {"pz_view_as": "paid-search"}).content.decode()
    member = User.objects.create_user("member", "m@example.com", "pw")
    client.force_login(member)
    assert "10% off" not in client.get("/", {"pz_view_as": "paid-search"}).content.decode()


def test_userbar_offers_view_as_on_live_pages(editor: Any) -> None:
    html = editor.get("/").content.decode()
    assert "View as default visitor" in html
    assert "?pz_view_as=dach" in html
    assert "View as: From DACH" in html


def test_userbar_view_as_hidden_from_users_who_cannot_edit(client: Any, demo: None) -> None:
    moderator = User.objects.create_user("viewer", "v@example.com", "pw")
    moderator.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(moderator)
    assert "pz_view_as" not in client.get("/").content.decode()


def test_segment_usage_lists_pages(editor: Any) -> None:
    from wagtail.models import ReferenceIndex

    dach = Segment.objects.get(slug="dach")
    home = HomePage.objects.get()
    usage = ReferenceIndex.get_grouped_references_to(dach)
    assert [obj.pk for obj, _ in usage] == [home.pk]
    html = editor.get(
        reverse("wagtailsnippets_personalize_segment:usage", args=[dach.pk])
    ).content.decode()
    assert home.title in html


def test_deleting_used_segment_warns_and_pages_keep_rendering(editor: Any, client: Any) -> None:
    dach = Segment.objects.get(slug="dach")
    confirm = editor.get(reverse("wagtailsnippets_personalize_segment:delete", args=[dach.pk]))
    assert "This segment is referenced 1 time." in confirm.content.decode()
    editor.post(reverse("wagtailsnippets_personalize_segment:delete", args=[dach.pk]))
    assert not Segment.objects.filter(slug="dach").exists()
    editor.logout()
    response = client.get("/", headers={"CF-IPCountry": "AT"}, REMOTE_ADDR="10.0.0.1")
    assert response.status_code == 200
    assert "New here?" in response.content.decode()


def test_previews_and_revisions_need_edit_permission(client: Any, demo: None) -> None:
    home = HomePage.objects.get()
    revision = home.latest_revision
    urls = [
        reverse("wagtailadmin_pages:preview_on_edit", args=[home.pk]),
        reverse("wagtailadmin_pages:revisions_view", args=[home.pk, revision.pk]),
    ]
    for url in urls:
        assert client.get(url).status_code == 302  # to the login page
    member = User.objects.create_user("plain", "p@example.com", "pw")
    member.groups.add(Group.objects.get(name="Customers"))
    client.force_login(member)
    for url in urls:
        response = client.get(url)
        assert response.status_code in (302, 403)
        assert "Free shipping" not in response.content.decode()


def test_anonymous_preview_request_object_is_default(demo: None, rf: Any) -> None:
    home = HomePage.objects.get()
    html = _preview(home, rf, "segment:no-such-segment", AnonymousUser())
    assert "New here?" in html


def _userbar_serves_anonymous() -> bool:
    """Wagtail 7.1 and later render the userbar for an anonymous user with admin access."""
    from wagtail.admin import userbar

    return hasattr(userbar, "Userbar")


def _wagtail_preview(page: Any, client: Any, rf: Any, mode: str) -> Any:
    """A preview through Wagtail's own machinery (middleware included), as the preview panel
    asks for it with the logged-in editor's cookies."""
    cookies = "; ".join(f"{name}={morsel.value}" for name, morsel in client.cookies.items())
    original = rf.get("/admin/", HTTP_COOKIE=cookies)
    original.user = User.objects.get(username="admin")
    return page.make_preview_request(original, mode, extra_request_attrs={"in_preview_panel": True})


def test_segment_preview_shows_the_header_as_an_anonymous_visitor(editor: Any, rf: Any) -> None:
    response = _wagtail_preview(HomePage.objects.get(), editor, rf, "segment:dach")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Free shipping to Germany" in html
    assert "Log out" not in html
    assert "Ada" not in html
    assert 'href="/accounts/login/?next=/"' in html
    # Wagtail's userbar (its content checks in the preview panel) still asks the editor; Wagtail
    # 7.0's userbar cannot serve an anonymous user, so its previews go without.
    assert ('id="wagtail-userbar-template"' in html) is _userbar_serves_anonymous()


def test_default_visitor_preview_shows_the_header_as_an_anonymous_visitor(
    editor: Any, rf: Any
) -> None:
    html = _wagtail_preview(HomePage.objects.get(), editor, rf, "").content.decode()
    assert "New here?" in html
    assert "Log out" not in html


def test_preview_has_no_consent_banner_and_shows_the_previewed_visit(editor: Any, rf: Any) -> None:
    html = _wagtail_preview(HomePage.objects.get(), editor, rf, "segment:dach").content.decode()
    assert "pz-banner" not in html
    assert "data-pz-fragment" not in html
    # The visit panel is the previewed visitor's, rendered in place.
    assert "Your visit, as the site sees it" in html
    assert '<span class="chip">From DACH</span>' in html


def test_live_pages_keep_the_banner_and_fragments(client: Any, demo: None) -> None:
    html = client.get("/").content.decode()
    assert html.count("data-pz-fragment=") == 2
    assert "pz-banner" not in html  # fetched by the browser after the page loads


def test_preview_renders_anonymously_and_gives_the_editor_back(demo: None, rf: Any) -> None:
    from personalize.pages import PreviewVisitorUser

    admin = User.objects.get(username="admin")
    request = rf.get("/")
    request.user = admin
    request.is_preview = True
    seen: list[Any] = []
    home = HomePage.objects.get()
    original = HomePage.get_context

    def spy(page: Any, req: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(req.user)
        return original(page, req, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(HomePage, "get_context", spy)
        html = home.serve_preview(request, "segment:dach").content.decode()
    assert [type(user) for user in seen] == [PreviewVisitorUser]
    assert seen[0].is_authenticated is False
    assert seen[0].has_perm("wagtailadmin.access_admin") is _userbar_serves_anonymous()
    assert seen[0].has_perm("wagtailcore.change_page") is False
    assert request.user is admin
    assert "Log out" not in html
    assert "pz-banner" not in html


def test_page_editor_loads_the_blocks_forms(editor: Any) -> None:
    from django.contrib.staticfiles import finders

    home = HomePage.objects.get()
    html = editor.get(reverse("wagtailadmin_pages:edit", args=[home.pk])).content.decode()
    assert "personalize/block_forms.js" in html
    assert "personalize.blocks.KeyBlock" in html
    assert "personalize.blocks.GatedBlock" in html
    script = Path(finders.find("personalize/block_forms.js")).read_text(encoding="utf-8")
    assert 'telepath.register("personalize.blocks.KeyBlock"' in script
    assert 'telepath.register("personalize.blocks.GatedBlock"' in script


def test_key_blocks_and_gates_use_the_packages_editor_forms() -> None:
    from wagtail import blocks

    from personalize.blocks import GatedBlock, KeyBlock, PersonalizedBlock

    try:
        from wagtail.admin.telepath import JSContext
    except ImportError:  # Wagtail 7.0
        from wagtail.telepath import JSContext

    context = JSContext()
    packed = json.dumps(
        context.pack(PersonalizedBlock([("heading", blocks.CharBlock())])), default=str
    )
    assert packed.count('"personalize.blocks.KeyBlock"') == 2  # the block's and the variant's
    assert context.pack(GatedBlock())["_type"] == "personalize.blocks.GatedBlock"
    assert "personalize/block_forms.js" in [str(js) for js in context.media._js]
    # The stored key is unchanged by the form: it is kept, or given on the first save.
    key = KeyBlock()
    assert key.clean("a" * 32) == "a" * 32
    assert len(key.clean("")) == 32


def test_a_variants_ab_test_fields_wait_in_its_settings_area() -> None:
    from wagtail import blocks

    from personalize.blocks import VariantBlock

    block_group = getattr(blocks, "BlockGroup", None)
    variant = VariantBlock([("heading", blocks.CharBlock())])
    # The order of the fields (and so migrations and the stored value) is unchanged.
    assert list(variant.child_blocks) == [
        "label",
        "segments",
        "content",
        "alternatives",
        "weight",
        "holdout",
        "key",
    ]
    if block_group is None:  # Wagtail 7.0 LTS: every field shows, as before
        assert getattr(variant.meta, "form_layout", None) is None
        return
    layout = variant.meta.form_layout
    assert isinstance(layout, block_group)
    assert layout.children == ["label", "segments", "content"]
    assert layout.settings == ["alternatives", "weight", "holdout", "key"]
