"""Visitor profiles: what the site remembers about a consenting visitor."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class Profile(models.Model):
    """One visitor's memory: anonymous (by visitor id) or linked to a user.

    The behavioural data (visits, scores, interests, preferences, consent, merge audit) lives in
    ``data`` as :meth:`personalize.rules.scoring.ProfileState.to_json` wrote it, so one row lock
    makes every update atomic. Rows exist only for visitors who allowed personalization.
    """

    visitor_id = models.UUIDField(_("visitor id"), unique=True, default=uuid.uuid4, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="personalize_profile",
        verbose_name=_("user"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_seen = models.DateTimeField(_("last seen"), default=timezone.now, db_index=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    #: Incremented by every write: a write based on a cached copy succeeds only if no other
    #: write came in between (optimistic concurrency).
    rev = models.PositiveIntegerField(_("revision"), default=0, editable=False)

    class Meta:
        verbose_name = _("visitor profile")
        verbose_name_plural = _("visitor profiles")

    def __str__(self) -> str:
        if self.user_id:
            return gettext("Profile of user %(id)s") % {"id": self.user_id}
        return gettext("Visitor %(id)s") % {"id": self.visitor_id}
