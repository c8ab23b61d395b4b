"""The demo's call-to-action links: only pages, e-mail and phone links, checked twice."""

from __future__ import annotations

import pytest
from wagtail.blocks.struct_block import StructBlockValidationError

from cms_site.home.links import INVALID_LINK, safe_link
from cms_site.home.models import CallToActionBlock


def value(url: str) -> dict[str, str]:
    return {
        "heading": "Visit us",
        "text": "Fittings every Saturday.",
        "link_label": "Go",
        "link_url": url,
    }


@pytest.mark.parametrize(
    "url",
    [
        "/journal/",
        "journal/",
        "?page=2",
        "#fitting",
        "https://example.com/a?b=c",
        "http://example.com",
        "mailto:shop@example.com",
        "tel:+43123456",
    ],
)
def test_pages_e_mail_and_phone_links_are_safe(url: str) -> None:
    assert safe_link(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "java\tscript:alert(1)",
        "java\x00script:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "//evil.example/",
        "/\\evil.example/",
        "",
        "   ",
    ],
)
def test_script_and_other_links_are_refused(url: str) -> None:
    assert safe_link(url) is None


def test_the_editor_gets_a_validation_error_on_the_link_field() -> None:
    block = CallToActionBlock()
    with pytest.raises(StructBlockValidationError) as raised:
        block.clean(block.to_python(value("javascript:alert(document.cookie)")))
    (error,) = raised.value.block_errors["link_url"].error_list
    assert error.message == INVALID_LINK
    assert error.code == "unsafe_link"
    assert block.clean(block.to_python(value("/journal/")))["link_url"] == "/journal/"


def test_a_link_saved_before_the_check_renders_no_href() -> None:
    block = CallToActionBlock()
    html = block.render(block.to_python(value('javascript:alert("x")')))
    assert "javascript" not in html
    assert "href" not in html
    assert '<span class="button">Go</span>' in html
    safe = block.render(block.to_python(value('/journal/?a=1&b="2"')))
    assert '<a class="button" href="/journal/?a=1&amp;b=&quot;2&quot;">Go</a>' in safe


@pytest.mark.django_db
def test_a_page_body_with_a_script_link_does_not_validate() -> None:
    from wagtail.blocks.stream_block import StreamBlockValidationError

    from cms_site.home.models import ContentPage

    stream_block = ContentPage.body.field.stream_block
    body = stream_block.to_python([{"type": "call_to_action", "value": value("javascript:x")}])
    with pytest.raises(StreamBlockValidationError) as raised:
        stream_block.clean(body)
    (error,) = raised.value.block_errors[0].block_errors["link_url"].error_list
    assert error.message == INVALID_LINK
