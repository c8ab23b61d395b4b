"""Signal receivers: version bumps on changes, identity at login and logout, tracked actions."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from personalize.models import (
    Experiment,
    Funnel,
    Goal,
    PersonalizationSettings,
    ScoringRule,
    Segment,
)
from personalize.profiles.scoring import config_changed
from personalize.tracking import login
from personalize.visitors.registry import segments_changed


@receiver(post_save, sender=Segment, dispatch_uid="personalize_segment_saved")
@receiver(post_delete, sender=Segment, dispatch_uid="personalize_segment_deleted")
def _segment_changed(**kwargs: Any) -> None:
    # After commit, so no process reloads before the change is visible to its queries.
    transaction.on_commit(segments_changed)


@receiver(post_save, sender=ScoringRule, dispatch_uid="personalize_scoring_rule_saved")
@receiver(post_delete, sender=ScoringRule, dispatch_uid="personalize_scoring_rule_deleted")
@receiver(post_save, sender=PersonalizationSettings, dispatch_uid="personalize_settings_saved")
def _config_changed(**kwargs: Any) -> None:
    transaction.on_commit(config_changed)


@receiver(user_logged_in, dispatch_uid="personalize_user_logged_in")
def _logged_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is not None:
        login.on_login(request, user)


@receiver(user_logged_out, dispatch_uid="personalize_user_logged_out")
def _logged_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is not None:
        login.on_logout(request, user)


def _track_form_submission(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    from personalize.tracking.events import track
    from personalize.visitors.visitor import current_visitor

    visitor = current_visitor()
    if created and visitor is not None:
        page = instance.page
        track(visitor.request, "form_submit", page=page, target=page.pk)


def _track_download(sender: Any, instance: Any, request: Any, **kwargs: Any) -> None:
    from personalize.tracking.events import track

    track(request, "download", target=instance.pk)


def _page_published(sender: Any, instance: Any, **kwargs: Any) -> None:
    from personalize.blocks.publishing import sync_page_experiments

    sync_page_experiments(instance)
    _pages_changed()


def _pages_changed(**kwargs: Any) -> None:
    """A page was published, unpublished, moved or deleted: indexes and cached pages go."""
    from personalize.caching.index import pages_changed

    transaction.on_commit(pages_changed)


@receiver(post_save, sender=Goal, dispatch_uid="personalize_goal_saved")
@receiver(post_delete, sender=Goal, dispatch_uid="personalize_goal_deleted")
@receiver(post_save, sender=Funnel, dispatch_uid="personalize_funnel_saved")
@receiver(post_delete, sender=Funnel, dispatch_uid="personalize_funnel_deleted")
def _goals_changed(**kwargs: Any) -> None:
    from personalize.analytics.goals import goals_changed

    transaction.on_commit(goals_changed)


@receiver(post_save, sender=Experiment, dispatch_uid="personalize_experiment_saved")
@receiver(post_delete, sender=Experiment, dispatch_uid="personalize_experiment_deleted")
def _experiment_changed(**kwargs: Any) -> None:
    from personalize.analytics.experiments import experiments_changed

    transaction.on_commit(experiments_changed)


def connect_optional_receivers() -> None:
    """Track Wagtail form submissions and document downloads when those apps are installed."""
    from django.apps import apps
    from wagtail.models import Locale, Page, Site
    from wagtail.signals import page_published, page_unpublished, post_page_move

    from personalize.caching.locales import locales_changed

    page_published.connect(_page_published, dispatch_uid="personalize_page_published")
    page_unpublished.connect(_pages_changed, dispatch_uid="personalize_page_unpublished")
    post_page_move.connect(_pages_changed, dispatch_uid="personalize_page_moved")
    post_delete.connect(_pages_changed, sender=Page, dispatch_uid="personalize_page_deleted")
    # Which site a host is, and which page a path: both remembered until a site changes too.
    post_save.connect(_pages_changed, sender=Site, dispatch_uid="personalize_site_saved")
    post_delete.connect(_pages_changed, sender=Site, dispatch_uid="personalize_site_deleted")
    post_save.connect(locales_changed, sender=Locale, dispatch_uid="personalize_locale_saved")
    post_delete.connect(locales_changed, sender=Locale, dispatch_uid="personalize_locale_deleted")
    from django.conf import settings

    from personalize.tracking.events import track_registration

    post_save.connect(
        track_registration,
        sender=settings.AUTH_USER_MODEL,
        dispatch_uid="personalize_registration",
    )
    if apps.is_installed("wagtail.contrib.forms"):
        from wagtail.contrib.forms.models import FormSubmission

        post_save.connect(
            _track_form_submission, sender=FormSubmission, dispatch_uid="personalize_form_submit"
        )
    if apps.is_installed("wagtail.documents"):
        from wagtail.documents.models import document_served

        document_served.connect(_track_download, dispatch_uid="personalize_download")
