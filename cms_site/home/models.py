"""Page types of the demo site."""

from __future__ import annotations

from wagtail import blocks
from wagtail.admin.panels import FieldPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page
from wagtail.search import index


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

    def get_context(self, value: object, parent_context: dict | None = None) -> dict:
        from cms_site.home.middleware import COOKIE
        from personalize.choices import countries

        context = super().get_context(value, parent_context=parent_context)
        request = (parent_context or {}).get("request")
        context["countries"] = countries()
        context["current"] = request.COOKIES.get(COOKIE, "") if request else ""
        return context

    class Meta:
        icon = "site"
        admin_text = "Country picker: lets visitors choose the country the demo CDN reports."
        template = "home/blocks/country_picker.html"


class BodyBlock(blocks.StreamBlock):
    """The content blocks editors can use on every demo page."""

    heading = blocks.CharBlock(form_classname="title", template="home/blocks/heading.html")
    paragraph = blocks.RichTextBlock()
    call_to_action = CallToActionBlock()
    quote = blocks.BlockQuoteBlock()
    country_picker = CountryPickerBlock()


class HomePage(Page):
    """The demo's home page."""

    intro = RichTextField(blank=True)
    body = StreamField(BodyBlock(), blank=True)

    content_panels = [*Page.content_panels, FieldPanel("intro"), FieldPanel("body")]
    search_fields = [*Page.search_fields, index.SearchField("intro"), index.SearchField("body")]
    subpage_types = ["home.ContentPage"]
    max_count = 1


class ContentPage(Page):
    """A general content page (guides, journal articles, about)."""

    intro = RichTextField(blank=True)
    body = StreamField(BodyBlock(), blank=True)

    content_panels = [*Page.content_panels, FieldPanel("intro"), FieldPanel("body")]
    search_fields = [*Page.search_fields, index.SearchField("intro"), index.SearchField("body")]
    subpage_types = ["home.ContentPage"]
