"""Page types of the demo site."""

from __future__ import annotations

from typing import Any

from django.db import models
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey
from taggit.models import TaggedItemBase
from wagtail import blocks
from wagtail.admin.panels import FieldPanel
from wagtail.api import APIField
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page
from wagtail.search import index

from personalize.blocks import GatedBlock, PersonalizedBlock
from personalize.pages import PersonalizedPageMixin
from personalize.preferences import PreferenceBlock


class ContentPageTag(TaggedItemBase):
    """Tags of content pages: each view adds interest points per tag."""

    content_object = ParentalKey(
        "home.ContentPage", related_name="tagged_items", on_delete=models.CASCADE
    )


class CallToActionBlock(blocks.StructBlock):
    """A highlighted box with a heading, a sentence and a link."""

    heading = blocks.CharBlock()
    text = blocks.TextBlock()
    link_label = blocks.CharBlock()
    link_url = blocks.CharBlock(help_text="A path such as /journal/ or a full URL")

    class Meta:
        icon = "pick"
        template = "home/blocks/call_to_action.html"


class CountryPickerBlock(blocks.StaticBlock):
    """Demo only: a form that makes the demo's simulated CDN report a chosen country."""

    def get_context(
        self, value: Any, parent_context: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        from cms_site.home.middleware import COOKIE
        from personalize.choices import countries

        context: dict[str, Any] = super().get_context(value, parent_context=parent_context)
        request = (parent_context or {}).get("request")
        context["countries"] = countries()
        context["current"] = request.COOKIES.get(COOKIE, "") if request else ""
        return context

    class Meta:
        icon = "site"
        admin_text = "Country picker: lets visitors choose the country the demo CDN reports."
        template = "home/blocks/country_picker.html"


class FittingRequestBlock(blocks.StructBlock):
    """Demo only: a "Request a fitting" button that records the custom event ``demo_request``."""

    heading = blocks.CharBlock(default="Book a fitting")
    text = blocks.TextBlock()
    button_label = blocks.CharBlock(default="Request a fitting")

    class Meta:
        icon = "date"
        template = "home/blocks/fitting_request.html"


def content_blocks() -> list[tuple[str, blocks.Block]]:
    """The blocks editors use for content, also inside variants and gated content."""
    return [
        ("heading", blocks.CharBlock(form_classname="title", template="home/blocks/heading.html")),
        ("paragraph", blocks.RichTextBlock()),
        ("call_to_action", CallToActionBlock()),
        ("quote", blocks.BlockQuoteBlock()),
    ]


class BodyBlock(blocks.StreamBlock):
    """Every demo page's body: content, personalized content, gated content."""

    heading = blocks.CharBlock(form_classname="title", template="home/blocks/heading.html")
    paragraph = blocks.RichTextBlock()
    call_to_action = CallToActionBlock()
    quote = blocks.BlockQuoteBlock()
    personalized = PersonalizedBlock(content_blocks())
    gated = GatedBlock(content_blocks())
    country_picker = CountryPickerBlock()
    preference = PreferenceBlock()
    fitting_request = FittingRequestBlock()


class HomePage(PersonalizedPageMixin, Page):
    """The demo's home page."""

    intro = RichTextField(blank=True)
    body = StreamField(BodyBlock(), blank=True)

    content_panels = [*Page.content_panels, FieldPanel("intro"), FieldPanel("body")]
    search_fields = [*Page.search_fields, index.SearchField("intro"), index.SearchField("body")]
    api_fields = [APIField("intro"), APIField("body")]
    subpage_types = ["home.ContentPage"]
    max_count = 1


class ContentPage(PersonalizedPageMixin, Page):
    """A general content page (guides, journal articles, about)."""

    intro = RichTextField(blank=True)
    body = StreamField(BodyBlock(), blank=True)
    tags = ClusterTaggableManager(through=ContentPageTag, blank=True)

    content_panels = [*Page.content_panels, FieldPanel("intro"), FieldPanel("body")]
    promote_panels = [*Page.promote_panels, FieldPanel("tags")]
    search_fields = [*Page.search_fields, index.SearchField("intro"), index.SearchField("body")]
    api_fields = [APIField("intro"), APIField("body")]
    subpage_types = ["home.ContentPage"]
