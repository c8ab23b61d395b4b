"""Registration only: segments, scoring rules, analytics snippets and report, settings, the
userbar, the served page."""

from typing import Any

from django.conf import settings
from django.urls import include, path, reverse
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.contrib.settings.registry import register_setting
from wagtail.snippets.models import register_snippet

from personalize.admin import report
from personalize.admin.userbar import ViewAsSegmentItem
from personalize.admin.viewsets import AnalyticsViewSetGroup, ScoringRuleViewSet, SegmentViewSet
from personalize.caching.locales import locale_code
from personalize.middleware import PAGE_ATTRIBUTE
from personalize.models import PersonalizationSettings
from personalize.views import simulator
from personalize.visitors.context import PAGE_LOCALE_ATTRIBUTE

register_snippet(SegmentViewSet)
register_snippet(ScoringRuleViewSet)
register_snippet(AnalyticsViewSetGroup)
register_setting(PersonalizationSettings, icon="group")


@hooks.register("before_serve_page")
def remember_served_page(page: Any, request: Any, serve_args: Any, serve_kwargs: Any) -> None:
    """Leave the page on the request, for the middleware to track the view, and its language
    for ``page.locale`` (only with Wagtail i18n; read from the process's table of locales)."""
    setattr(request, PAGE_ATTRIBUTE, page)
    if getattr(settings, "WAGTAIL_I18N_ENABLED", False):
        setattr(request, PAGE_LOCALE_ATTRIBUTE, locale_code(page))


@hooks.register("construct_wagtail_userbar")
def add_view_as_segment(request: Any, items: list[Any], page: Any) -> None:
    if ViewAsSegmentItem.offered_on(page):
        items.append(ViewAsSegmentItem(page))


@hooks.register("register_admin_urls")
def register_report_urls() -> list[Any]:
    return [
        path(
            "personalize/",
            include((report.urlpatterns, "personalize_admin"), namespace="personalize_admin"),
        )
    ]


@hooks.register("register_admin_urls")
def register_simulator_urls() -> list[Any]:
    """The visitor simulator (editors only, like every admin URL)."""
    return [
        path(
            "personalize/simulate/",
            include(
                (simulator.urlpatterns, "personalize_simulator"), namespace="personalize_simulator"
            ),
        )
    ]


@hooks.register("register_reports_menu_item")
def register_report_menu_item() -> report.ReportMenuItem:
    return report.ReportMenuItem(
        _("Personalization"),
        reverse("personalize_admin:report"),
        name="personalization",
        icon_name="table",
        order=1300,
    )


@hooks.register("register_permissions")
def register_report_permission() -> Any:
    from django.contrib.auth.models import Permission

    app_label, codename = report.PERMISSION.split(".")
    return Permission.objects.filter(content_type__app_label=app_label, codename=codename)
