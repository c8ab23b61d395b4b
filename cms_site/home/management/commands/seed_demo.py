"""Create the demo site from its data files: pages, users, segments, scoring rules, analytics.

The copy and structure live in ``cms_site/home/demo_content/`` (read by
:mod:`cms_site.home.demo_loader`). Safe to run again: only what is missing is created, so editors'
changes survive. Pages from an earlier run that no editor has saved since get what later versions
of the data files added (tags, block keys, A/B tests, sections: see
:mod:`cms_site.home.demo_upgrades`); each experiment is named, given its goal and started once,
while editors have not touched it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone
from wagtail.models import Page, Site

from cms_site.home.demo_loader import (
    CONTENT_DIR,
    DemoContent,
    PageData,
    References,
    field_values,
    key,
    load_demo,
)
from cms_site.home.demo_translations import translate_demo
from cms_site.home.demo_upgrades import upgrade_page
from personalize.models import (
    Experiment,
    Funnel,
    Goal,
    PersonalizationSettings,
    ScoringRule,
    Segment,
)


class Command(BaseCommand):
    """``manage.py seed_demo``: the demo's content, users and segments, from its data files."""

    help = (
        "Create the demo site's pages, users, segments, scoring rules, goals, funnels and "
        "settings from its data files, and start its A/B test (only what is missing)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--content",
            type=Path,
            default=CONTENT_DIR,
            help="The folder of data files to read (default: the demo's own, %(default)s).",
        )

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        content = load_demo(options["content"])  # checked before anything is written
        self._users(content.users)
        PersonalizationSettings.load()  # default stages and half-life, editable in the admin
        refs = References(f"/{content.home.fields['slug']}/")
        for spec in content.segments:
            self._create(Segment, spec, "slug", refs)
        home = self._home(content, refs)
        for child in content.home.children:
            self._page(home, child, refs)
        for spec in content.scoring_rules:
            self._create(ScoringRule, spec, "name", refs)
        for spec in content.goals:
            self._create(Goal, spec, "name", refs)
        for spec in content.funnels:
            self._funnel(spec)
        for spec in content.experiments:
            self._start_experiment(spec)
        # The German pages (demo_content/translations/), with Wagtail i18n on.
        translate_demo(options["content"])
        self.stdout.write(self.style.SUCCESS("Demo content ready."))
        for user in content.users:
            # Where the closing lines send a superuser (the port `make demo PORT=…` serves on).
            admin_url = f"{settings.WAGTAILADMIN_BASE_URL.rstrip('/')}/admin/"
            where = f"{admin_url}  " if user.get("superuser") else ""
            login = f"user {user['username']!r}, password {user['password']!r}"
            self.stdout.write(f"{user['label'] + ':':<10}{where}{login}")

    def _home(self, content: DemoContent, refs: References) -> Page:
        """The home page: found again, or created in place of Wagtail's welcome page."""
        data = content.home
        existing = data.model.objects.first()
        if existing:
            upgrade_page(existing, data, refs)
            return existing
        root = Page.get_first_root_node()
        for page in root.get_children():
            if page.slug == data.fields["slug"] and not isinstance(page.specific, data.model):
                page.delete()
        root.refresh_from_db()  # the tree changed under this instance
        home = self._new_page(root, data, refs)
        site = Site.objects.filter(is_default_site=True).first()
        if site is None:
            site = Site(is_default_site=True, hostname=content.site["hostname"])
            site.port = content.site["port"]
        site.root_page, site.site_name = home, content.site["name"]
        site.save()
        return home

    def _page(self, parent: Page, data: PageData, refs: References) -> None:
        existing = parent.get_children().filter(slug=data.fields["slug"]).first()
        if existing is None:
            page = self._new_page(parent, data, refs)
        else:
            page = existing.specific
            self._tag(page, data.tags)
            upgrade_page(page, data, refs)
        for child in data.children:
            self._page(page, child, refs)

    def _new_page(self, parent: Page, data: PageData, refs: References) -> Page:
        page = data.model(**field_values(data.model, data.fields, data.where, refs))
        if data.tags:
            page.tags.add(*data.tags)
        parent.add_child(instance=page)
        page.save_revision().publish()
        return page

    def _tag(self, page: Page, tags: list[str]) -> None:
        """Give a page from an earlier run its tags, unless an editor already tagged it."""
        if not tags or not hasattr(page, "tags") or page.tags.exists():
            return
        page.tags.add(*tags)
        page.save_revision().publish()

    def _create(self, model: Any, spec: dict[str, Any], name: str, refs: References) -> None:
        """Create the item unless one with its ``name`` field (slug or name) exists."""
        if model.objects.filter(**{name: spec[name]}).exists():
            return
        where = f"{model._meta.verbose_name} {spec[name]!r}"
        item = model(**field_values(model, spec, where, refs))
        item.full_clean()
        item.save()

    def _funnel(self, spec: dict[str, Any]) -> None:
        if Funnel.objects.filter(name=spec["name"]).exists():
            return
        goals = {goal.name: goal for goal in Goal.objects.filter(name__in=spec["steps"])}
        if len(goals) < len(spec["steps"]):
            return  # an editor renamed or deleted a step's goal: leave the funnel to them
        Funnel.objects.create(
            name=spec["name"], steps=[("goal", goals[name]) for name in spec["steps"]]
        )

    def _start_experiment(self, spec: dict[str, Any]) -> None:
        """Name the variant's test, give it its goal and start it, unless editors already did."""
        experiment = Experiment.objects.filter(key=key(spec["variant"])).first()
        if experiment is None or experiment.status != Experiment.DRAFT:
            return
        if experiment.started_at is not None or experiment.goal_id is not None:
            return
        experiment.name = spec["name"]
        experiment.goal = Goal.objects.filter(name=spec["goal"]).first()
        experiment.status = Experiment.RUNNING
        experiment.started_at = timezone.now()
        experiment.full_clean()
        experiment.save()

    def _users(self, users: list[dict[str, Any]]) -> None:
        user_model = get_user_model()
        for spec in users:
            user = user_model.objects.filter(username=spec["username"]).first()
            if user is None:
                manager = user_model.objects
                create = manager.create_superuser if spec.get("superuser") else manager.create_user
                user = create(
                    spec["username"],
                    spec["email"],
                    spec["password"],
                    first_name=spec.get("first_name", ""),
                    last_name=spec.get("last_name", ""),
                )
            for group in spec.get("groups", []):
                user.groups.add(Group.objects.get_or_create(name=group)[0])
