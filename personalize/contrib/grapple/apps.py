"""The app that adds the package's block types to wagtail-grapple's registry."""

from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PersonalizeGrappleConfig(AppConfig):
    """``"personalize.contrib.grapple"`` in ``INSTALLED_APPS``, next to ``"grapple"``."""

    name = "personalize.contrib.grapple"
    label = "personalize_grapple"
    verbose_name = _("Personalization for wagtail-grapple")

    def ready(self) -> None:
        """Register the block types before grapple's schema is built (on its first use)."""
        from django.core import checks
        from grapple.registry import registry

        from personalize.contrib.grapple.checks import check_grapple_views
        from personalize.contrib.grapple.types import BLOCK_TYPES

        registry.streamfield_blocks.update(BLOCK_TYPES)
        checks.register(check_grapple_views, checks.Tags.security, checks.Tags.urls)
