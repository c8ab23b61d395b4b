"""``manage.py personalize_purge``: delete profiles not seen for longer than the retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from personalize.conf import personalize_settings
from personalize.profiles.database import DatabaseProfileStore
from personalize.profiles.memory import MemoryProfileStore
from personalize.profiles.store import BaseProfileStore, profile_store


def count_stale(store: BaseProfileStore, before: datetime) -> int:
    """How many profiles :meth:`~personalize.profiles.store.BaseProfileStore.purge` would delete.

    Raises:
        CommandError: the store cannot count (a custom store).
    """
    if isinstance(store, DatabaseProfileStore):
        from personalize.models import Profile

        return Profile.objects.filter(last_seen__lt=before).count()
    if isinstance(store, MemoryProfileStore):
        cutoff = before.timestamp()
        return sum(1 for _, state in store.profiles.values() if (state.last_seen or 0) < cutoff)
    raise CommandError(f"{type(store).__name__} cannot count profiles: run without --dry-run.")


def _profiles(count: int) -> str:
    return f"{count} profile" if count == 1 else f"{count} profiles"


class Command(BaseCommand):
    help = (
        "Delete visitor profiles last seen more than DAYS days ago "
        "(default: PERSONALIZE['PROFILE_RETENTION_DAYS']). Run it daily, e.g. from cron."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--older-than",
            dest="days",
            type=int,
            default=None,
            metavar="DAYS",
            help="Delete profiles not seen for this many days.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Only print how many would be deleted."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["days"]
        if days is None:
            days = personalize_settings.PROFILE_RETENTION_DAYS
        if not isinstance(days, int) or days < 0:
            raise CommandError(f"--older-than must be a number of days of 0 or more, not {days!r}.")
        before = datetime.now(UTC) - timedelta(days=days)
        store = profile_store()
        when = before.strftime("%Y-%m-%d %H:%M UTC")
        if options["dry_run"]:
            count = count_stale(store, before)
            self.stdout.write(f"Would delete {_profiles(count)} last seen before {when}.")
            return
        deleted = store.purge(before)
        self.stdout.write(f"Deleted {_profiles(deleted)} last seen before {when}.")
