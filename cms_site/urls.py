"""URLs of the demo site."""

from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib.auth import views as auth_views
from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from cms_site.api import api_router
from cms_site.home import cart
from cms_site.home.views import register, request_fitting, simulate_country
from personalize.contrib.grapple.views import PersonalizeGrappleView
from personalize.graphql.views import PersonalizeGraphQLView

urlpatterns = [
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/register/", register, name="register"),
    path("api/v2/", api_router.urls),
    path("graphql/", PersonalizeGraphQLView.as_view(graphiql=settings.DEBUG), name="graphql"),
    # The same site through wagtail-grapple's schema (docs/how-to/grapple.md).
    path("grapple/", PersonalizeGrappleView.as_view(graphiql=settings.DEBUG), name="grapple"),
    path("demo/country/", simulate_country, name="demo-country"),
    path("demo/fitting/", request_fitting, name="demo-request-fitting"),
    path("demo/cart/", cart.cart, name="demo-cart"),
    path("demo/cart/add/", cart.add_to_cart, name="demo-cart-add"),
    path("demo/cart/remove/", cart.remove_from_cart, name="demo-cart-remove"),
    path("demo/cart/checkout/", cart.checkout, name="demo-checkout"),
    path("demo/cart/thank-you/", cart.checkout_done, name="demo-checkout-done"),
]

if settings.DEBUG:
    from django.conf.urls.static import static
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

# Pages and the package's views (privacy page, consent) in the URL's language: English without a
# prefix, German under /de/ (WAGTAIL_I18N_ENABLED, docs/how-to/translated-sites.md).
urlpatterns += i18n_patterns(
    path("personalize/", include("personalize.urls")),
    path("", include(wagtail_urls)),
    prefix_default_language=False,
)
