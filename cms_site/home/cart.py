"""Demo only: a shopping cart in the session, to show cart abandonment as a funnel.

Adding a product records the custom event ``add_to_cart`` (its target is the product's slug) and
checking out records ``checkout``: with the product page's ``product_view`` these are the three
steps of the demo's "Cart" funnel. Nothing is sold; checkout only says thank you.

The cart lives in the session (a strictly necessary cookie): it works for every visitor, while
``personalize.track()`` counts only for visitors who allowed analytics or personalization.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

import personalize
from cms_site.home.models import ProductPage, format_price
from personalize.signals.consent import ANALYTICS

#: The session key of the cart: {"<product page id>": quantity}.
CART = "demo_cart"
#: The session key of the last order, shown on the thank-you page.
LAST_ORDER = "demo_last_order"
#: The custom events of the cart (the demo's "Added to cart" and "Checked out" goals).
ADD_EVENT = "add_to_cart"
CHECKOUT_EVENT = "checkout"
#: At most this many of one product in the cart.
MAX_QUANTITY = 9


@dataclass(frozen=True)
class CartLine:
    """One product in the cart."""

    product: ProductPage
    quantity: int

    @property
    def total(self) -> Decimal:
        """The line's price."""
        return self.product.price * self.quantity

    @property
    def total_label(self) -> str:
        """The line's price as shoppers read it."""
        return format_price(self.total)


def _cart(request: HttpRequest) -> dict[str, int]:
    raw = request.session.get(CART)
    if not isinstance(raw, dict):
        return {}
    return {
        str(key): int(value)
        for key, value in raw.items()
        if str(key).isdigit() and isinstance(value, int) and value > 0
    }


def cart_lines(request: HttpRequest) -> list[CartLine]:
    """The products in the request's cart that are still published, in the shop's order."""
    cart = _cart(request)
    products = ProductPage.objects.live().filter(pk__in=[int(pk) for pk in cart])
    return [CartLine(product, cart[str(product.pk)]) for product in products.order_by("path")]


def cart_size(request: HttpRequest) -> int:
    """How many items the request's cart holds (without loading the products)."""
    return sum(_cart(request).values())


def _product(request: HttpRequest) -> ProductPage | None:
    pk = request.POST.get("product", "")
    if not pk.isdigit():
        return None
    return ProductPage.objects.live().filter(pk=int(pk)).first()


def _counted_note(request: HttpRequest) -> str:
    """Whether this step counts in the "Cart" funnel, for the demo's messages."""
    visitor = getattr(request, "visitor", None)
    if visitor is not None and visitor.consent.allows(ANALYTICS):
        return " With analytics allowed, this step counts in the shop’s “Cart” funnel."
    return ""


@require_POST
def add_to_cart(request: HttpRequest) -> HttpResponseRedirect:
    """Put one product in the cart, record ``add_to_cart`` and show the cart."""
    product = _product(request)
    if product is None:
        messages.info(request, "That product is no longer in the shop.")
        return HttpResponseRedirect(reverse("demo-cart"))
    cart = _cart(request)
    key = str(product.pk)
    cart[key] = min(cart.get(key, 0) + 1, MAX_QUANTITY)
    request.session[CART] = cart
    personalize.track(request, ADD_EVENT, target=product.slug)
    messages.success(request, f"{product.title} is in your cart.{_counted_note(request)}")
    return HttpResponseRedirect(reverse("demo-cart"))


@require_POST
def remove_from_cart(request: HttpRequest) -> HttpResponseRedirect:
    """Take a product out of the cart."""
    product = _product(request)
    cart = _cart(request)
    if product is not None and cart.pop(str(product.pk), None) is not None:
        request.session[CART] = cart
        messages.info(request, f"{product.title} is no longer in your cart.")
    return HttpResponseRedirect(reverse("demo-cart"))


@require_GET
def cart(request: HttpRequest) -> HttpResponse:
    """The cart, with a total and a "Check out" button."""
    lines = cart_lines(request)
    total = sum((line.total for line in lines), Decimal(0))
    context: dict[str, Any] = {
        "lines": lines,
        "total": format_price(total),
        "shop_url": _shop_url(),
    }
    return render(request, "home/cart.html", context)


@require_POST
def checkout(request: HttpRequest) -> HttpResponseRedirect:
    """Record ``checkout``, empty the cart and say thank you (no payment: this is a demo)."""
    lines = cart_lines(request)
    if not lines:
        messages.info(request, "Your cart is empty: add a product first.")
        return HttpResponseRedirect(reverse("demo-cart"))
    personalize.track(request, CHECKOUT_EVENT)
    request.session[LAST_ORDER] = {
        "items": [[line.product.title, line.quantity, line.total_label] for line in lines],
        "total": format_price(sum((line.total for line in lines), Decimal(0))),
        "counted": bool(_counted_note(request)),
    }
    request.session.pop(CART, None)
    return HttpResponseRedirect(reverse("demo-checkout-done"))


@require_GET
def checkout_done(request: HttpRequest) -> HttpResponse:
    """The thank-you page of the last order (the cart when there is none)."""
    order = request.session.get(LAST_ORDER)
    if not isinstance(order, dict):
        return HttpResponseRedirect(reverse("demo-cart"))
    return render(request, "home/checkout_done.html", {"order": order, "shop_url": _shop_url()})


def _shop_url() -> str:
    """The shop's index page: the parent of the first product (the home page without one)."""
    product = ProductPage.objects.live().order_by("path").first()
    parent = product.get_parent() if product is not None else None
    return (parent.url if parent is not None else None) or "/"
