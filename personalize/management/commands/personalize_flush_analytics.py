"""``manage.py personalize_flush_analytics``: move the live analytics counters into the database.

Counters are kept in the shared cache (Redis) while pages are served; reports read the
``DailyCount`` rows this command writes. Run it every few minutes, e.g. from cron::

    */5 * * * * cd /srv/site && .venv/bin/python manage.py personalize_flush_analytics --quiet

It is safe to interrupt and to run twice at once: no counter is lost or counted twice (see
:mod:`personalize.analytics.flush`). Counters not flushed within 40 days expire.

When the store lost its data since the last flush (Redis restarted without persistence, keys
evicted), the command still flushes what is there, then fails with "DATA LOST" and a non-zero
exit, so cron mails it to the operator. The next run is clean again.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from personalize.analytics.counters import AnalyticsUnavailable
from personalize.analytics.file_store import FileCounterStore
from personalize.analytics.flush import flush
from personalize.analytics.store import counter_store


def _plural(count: int, singular: str, plural: str) -> str:
    return f"{count} {singular if count == 1 else plural}"


def _loss_explained() -> tuple[str, str]:
    """How the configured store loses data, and what prevents it."""
    if isinstance(counter_store(), FileCounterStore):
        return (
            "the analytics file was deleted, replaced or unreadable",
            "Keep ANALYTICS_FILE on a disk that survives restarts and deploys, or use Redis",
        )
    return (
        "Redis restarted without persistence, or its keys were evicted",
        "Run Redis with appendonly yes and maxmemory-policy noeviction",
    )


class Command(BaseCommand):
    help = (
        "Move the live analytics counters from the cache into the database (DailyCount). "
        "Run it every few minutes, e.g. from cron."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--quiet", action="store_true", help="Print nothing unless something fails."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = flush()
        except AnalyticsUnavailable as exc:
            raise CommandError(
                f"The analytics store is unreachable; nothing more was flushed and the counters "
                f"stay in it for the next run: {exc}"
            ) from exc
        summary = (
            f"Flushed {_plural(result.batches, 'batch', 'batches')}, "
            f"{_plural(result.fields, 'counter', 'counters')}."
        )
        if result.lost_since is not None:
            cause, cure = _loss_explained()
            raise CommandError(
                f"DATA LOST: the analytics store lost its data after the flush of "
                f"{result.lost_since.isoformat(timespec='seconds')} ({cause}). "
                f"Everything counted after that flush and before the loss is gone, with "
                f"visitors' test assignments, exposures and unique-visitor counts. "
                f"{cure} (see docs/how-to/production.md). {summary}"
            )
        if options["quiet"] or options["verbosity"] == 0:
            return
        self.stdout.write(summary)
