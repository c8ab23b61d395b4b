"""The demo's content comes from its data files, and bad data stops the seed before it writes."""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command
from wagtail.models import Page

from cms_site.home.demo_loader import CONTENT_DIR, DemoContentError, key, load_demo, rich_text
from cms_site.home.models import ContentPage, HomePage, ProductPage
from personalize.models import Funnel, Segment

PAGES = [
    "/home/",
    "/home/journal/",
    "/home/journal/three-days-in-the-dolomites/",
    "/home/journal/waxing-skis-at-home/",
    "/home/journal/first-tour-of-the-season/",
    "/home/guides/",
    "/home/guides/layering-for-ski-touring/",
    "/home/guides/choosing-a-rain-jacket/",
    "/home/shop/",
    "/home/shop/alpine-shell-jacket/",
    "/home/shop/merino-base-layer/",
    "/home/shop/touring-skins/",
    "/home/try-it/",
]


def seed(content: Path = CONTENT_DIR) -> str:
    output = io.StringIO()
    call_command("seed_demo", content=content, stdout=output)
    return output.getvalue()


@pytest.fixture
def demo_copy(tmp_path: Path) -> Path:
    """A copy of the demo's data files, for a test to break."""
    return Path(shutil.copytree(CONTENT_DIR, tmp_path / "demo_content"))


def edit(folder: Path, name: str, old: str, new: str) -> None:
    path = folder / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_load_demo_reads_the_page_tree_from_one_file_per_section() -> None:
    content = load_demo()
    assert [(page.file, page.path) for page in content.home.walk()][:3] == [
        ("pages/home.yaml", "/"),
        ("pages/journal.yaml", "/journal/"),
        ("pages/journal.yaml", "/journal/three-days-in-the-dolomites/"),
    ]
    assert [page.path for page in content.home.walk()] == [path[5:] for path in PAGES]
    assert [item["slug"] for item in content.segments][:3] == [
        "mobile-visitors",
        "dach",
        "paid-search",
    ]
    assert content.funnels == [
        {"name": "Cart", "steps": ["Viewed a product", "Added to cart", "Checked out"]}
    ]


def test_rich_text_is_a_list_of_paragraphs_or_html() -> None:
    assert rich_text(["One.", "Two <em>too</em>."]) == "<p>One.</p><p>Two <em>too</em>.</p>"
    assert rich_text("<h3>As is</h3>") == "<h3>As is</h3>"


@pytest.mark.django_db
def test_seed_builds_the_site_the_data_files_describe() -> None:
    output = seed()
    assert output.splitlines() == [
        "Demo content ready.",
        "Admin:    http://127.0.0.1:8000/admin/  user 'admin', password 'admin-demo'",
        "Customer: user 'customer', password 'customer-demo'",
    ]
    assert [page.url_path for page in Page.objects.filter(depth__gte=2).order_by("path")] == PAGES
    home = HomePage.objects.get()
    assert home.intro == (
        "<p>Northwind Outdoor makes and sells clothing and equipment for hiking, climbing and ski "
        "touring, from our workshop in Innsbruck.</p>"
    )
    assert ProductPage.objects.get(slug="touring-skins").price == 165
    assert Segment.objects.get(slug="morning-readers").summary == (
        "Visitors between 06:00 and 11:00 local time on Monday, Tuesday, Wednesday, Thursday or "
        "Friday"
    )
    assert Segment.objects.get(slug="dach").condition == {
        "$and": [{"geo.country": {"$in": ["DE", "AT", "CH"]}}]
    }


@pytest.mark.django_db
def test_seeded_variants_name_their_segments_and_keys() -> None:
    seed()
    try_it = ContentPage.objects.get(slug="try-it")
    (drink,) = [block.value for block in try_it.body if block.block_type == "personalized"]
    tea = Segment.objects.get(slug="tea-drinkers")
    assert drink["key"] == key("try-it/drink")
    assert [(v["label"], list(v["segments"]), v["key"]) for v in drink["variants"]] == [
        ("Tea drinkers: the kettle", [tea.pk], key("try-it/drink/Tea drinkers: the kettle"))
    ]
    assert "visitor.prefs.drink" in drink["default"][0].value.source
    gated = ContentPage.objects.get(slug="layering-for-ski-touring").body[1].value
    assert (gated["requirement"], gated["cta_page"]) == ("authenticated", None)
    assert [child.block_type for child in gated["content"]] == ["heading", "paragraph", "paragraph"]


@pytest.mark.django_db
def test_unknown_segment_stops_the_seed_naming_file_and_item(demo_copy: Path) -> None:
    edit(demo_copy, "pages/home.yaml", "segments: [cooling-down]", "segments: [cooling-dwn]")
    message = (
        "pages/home.yaml, page /: body[0] personalized.variants[0].segments[0]: "
        "no segment with the slug 'cooling-dwn' in segments.yaml"
    )
    with pytest.raises(DemoContentError, match=re.escape(message)):
        seed(demo_copy)
    assert (Segment.objects.count(), HomePage.objects.count()) == (0, 0)


@pytest.mark.django_db
def test_unknown_block_type_stops_the_seed(demo_copy: Path) -> None:
    edit(demo_copy, "pages/journal.yaml", "- quote:", "- quotation:")
    message = (
        "pages/journal.yaml, page /journal/three-days-in-the-dolomites/: body[2]: "
        "unknown block type 'quotation'"
    )
    with pytest.raises(DemoContentError, match=re.escape(message)):
        seed(demo_copy)


@pytest.mark.django_db
def test_unknown_page_and_goal_stop_the_seed(demo_copy: Path) -> None:
    edit(demo_copy, "pages/guides.yaml", "cta_page: null", "cta_page: /sign-up/")
    with pytest.raises(DemoContentError, match=r"no page at '/sign-up/' in the page tree"):
        seed(demo_copy)
    edit(demo_copy, "pages/guides.yaml", "cta_page: /sign-up/", "cta_page: /try-it/")
    edit(demo_copy, "analytics.yaml", "[Viewed a product,", "[Viewed a productt,")
    with pytest.raises(DemoContentError, match="funnel 'Cart': no goal 'Viewed a productt'"):
        seed(demo_copy)
    assert not Funnel.objects.exists()


@pytest.mark.django_db
def test_page_chooser_names_a_page_created_before_it(demo_copy: Path) -> None:
    edit(demo_copy, "pages/guides.yaml", "cta_page: null", "cta_page: /journal/")
    seed(demo_copy)
    gated = ContentPage.objects.get(slug="layering-for-ski-touring").body[1].value
    assert gated["cta_page"] == ContentPage.objects.get(slug="journal").pk
