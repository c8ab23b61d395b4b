"""App configuration: connects segment invalidation and the system checks."""

from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PersonalizeConfig(AppConfig):
    """wagtail-personalize's app config (label ``personalize``)."""

    name = "personalize"
    label = "personalize"
    verbose_name = _("Personalization")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from personalize import checks, handlers  # noqa: F401  (registration on import)

        handlers.connect_optional_receivers()
