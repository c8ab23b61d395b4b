"""Page types of the demo site."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest, HttpResponse
from grapple.models import GraphQLRichText, GraphQLStreamfield, GraphQLString
from modelcluster.contrib.taggit import ClusterTaggableManager
from modelcluster.fields import ParentalKey
from taggit.models import TaggedItemBase
from wagtail import blocks
from wagtail.admin.panels import FieldPanel
from wagtail.api import APIField
from wagtail.blocks.struct_block import StructBlockValidationError
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page
from wagtail.search import index

import personalize
from cms_site.home.links import INVALID_LINK, safe_link
from personalize.blocks import AudienceMixin, GatedBlock, PersonalizedBlock, PreferenceBlock
from personalize.pages import PersonalizedPageMixin


class ContentPageTag(TaggedItemBase):
    """Tags of content pages: each view adds interest points per tag."""

    content_object = ParentalKey(
        "home.ContentPage", related_name="tagged_items", on_delete=models.CASCADE
    )


class CallToActionBlock(AudienceMixin, blocks.StructBlock):
    """A highlighted box with a heading, a sentence and a link, for everyone or an audience.

    ``AudienceMixin`` adds the "Audience" setting (the block's cog on Wagtail 8): editors choose
    who sees each call to action (docs/how-to/personalize-any-block.md).

    The link must be a path on the site or an ``http``, ``https``, ``mailto`` or ``tel`` URL
    (:mod:`cms_site.home.links`): checked when the editor saves, and again when rendering.
    """

    heading = blocks.CharBlock()
    text = blocks.TextBlock()
    link_label = blocks.CharBlock()
    link_url = blocks.CharBlock(help_text="A path such as /journal/ or a full URL")

    def clean(self, value: Any) -> Any:
        """The block's value, with a validation error on a link that is not safe to follow."""
        cleaned = super().clean(value)
        if safe_link(cleaned.get("link_url")) is None:
            raise StructBlockValidationError(
                block_errors={"link_url": ValidationError(INVALID_LINK, code="unsafe_link")}
            )
        return cleaned

    def get_context(
        self, value: Any, parent_context: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """The template's context, with ``link``: the URL when safe, else None (no link)."""
        context: dict[str, Any] = super().get_context(value, parent_context=parent_context)
        context["link"] = safe_link(value.get("link_url"))
        return context

    class Meta:
        icon = "pick"
        template = "home/blocks/call_to_action.html"


class CountryPickerBlock(blocks.StaticBlock):
    """Demo only: a form that makes the demo's simulated CDN report a chosen country."""

    def get_context(
        self, value: Any, parent_context: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        from cms_site.home.middleware import COOKIE
        from personalize.rule_blocks.choices import countries

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


class AddToCartBlock(blocks.StructBlock):
    """Demo only: an "Add to cart" button for the product page it is on.

    The button posts the page to the demo cart, which records the custom event ``add_to_cart``.
    """

    button_label = blocks.CharBlock(default="Add to cart")
    note = blocks.CharBlock(
        required=False, help_text="A line under the button, e.g. shipping and returns."
    )

    class Meta:
        icon = "plus-inverse"
        template = "home/blocks/add_to_cart.html"


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


class ProductBodyBlock(BodyBlock):
    """A product page's body: everything a content page has, and an "Add to cart" button."""

    add_to_cart = AddToCartBlock()


class HomePage(PersonalizedPageMixin, Page):
    """The demo's home page."""

    intro = RichTextField(blank=True)
    body = StreamField(BodyBlock(), blank=True)

    content_panels = [*Page.content_panels, FieldPanel("intro"), FieldPanel("body")]
    search_fields = [*Page.search_fields, index.SearchField("intro"), index.SearchField("body")]
    api_fields = [APIField("intro"), APIField("body")]
    graphql_fields = [GraphQLRichText("intro"), GraphQLStreamfield("body")]
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
    graphql_fields = [GraphQLRichText("intro"), GraphQLStreamfield("body")]
    subpage_types = ["home.ContentPage", "home.ProductPage"]


#: The custom event a product view records (the "Viewed a product" goal).
PRODUCT_VIEW_EVENT = "product_view"


class ProductPageTag(TaggedItemBase):
    """Tags of product pages (``shop`` and the product's topics)."""

    content_object = ParentalKey(
        "home.ProductPage", related_name="tagged_items", on_delete=models.CASCADE
    )


class ProductPage(PersonalizedPageMixin, Page):
    """A product of the demo shop: a description, a price and an "Add to cart" button.

    Every view of a product records the custom event ``product_view``, the first step of the
    demo's "Cart" funnel (the page view itself is tracked by the middleware, as for any page).
    """

    intro = RichTextField(blank=True)
    price = models.DecimalField(max_digits=8, decimal_places=2, help_text="In euros")
    body = StreamField(ProductBodyBlock(), blank=True)
    tags = ClusterTaggableManager(through=ProductPageTag, blank=True)

    content_panels = [
        *Page.content_panels,
        FieldPanel("intro"),
        FieldPanel("price"),
        FieldPanel("body"),
    ]
    promote_panels = [*Page.promote_panels, FieldPanel("tags")]
    search_fields = [*Page.search_fields, index.SearchField("intro"), index.SearchField("body")]
    api_fields = [APIField("intro"), APIField("price"), APIField("body")]
    graphql_fields = [
        GraphQLRichText("intro"),
        GraphQLString("price_label"),
        GraphQLStreamfield("body"),
    ]
    parent_page_types = ["home.ContentPage"]
    subpage_types: list[str] = []

    def get_context(self, request: HttpRequest, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """The page's context, with the number of items in the visitor's cart."""
        from cms_site.home.cart import cart_size

        context: dict[str, Any] = super().get_context(request, *args, **kwargs)
        context["cart_size"] = cart_size(request)
        return context

    @property
    def price_label(self) -> str:
        """The price as shoppers read it: ``€389`` or ``€24.50``."""
        return format_price(self.price)

    def serve(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        """Record ``product_view`` for a visitor's GET (never for previews), then render."""
        if request.method == "GET" and not getattr(request, "is_preview", False):
            personalize.track(request, PRODUCT_VIEW_EVENT, page=self)
        response: HttpResponse = super().serve(request, *args, **kwargs)
        return response


def format_price(amount: Decimal) -> str:
    """Euros without cents when they are whole: ``€389``, ``€1,290``, ``€24.50``."""
    if amount == amount.to_integral_value():
        return f"€{amount:,.0f}"
    return f"€{amount:,.2f}"
