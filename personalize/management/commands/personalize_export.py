"""``manage.py personalize_export``: print what is stored about a user or visitor, as JSON."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from personalize.profiles.store import ProfileKey
from personalize.tracking.export import export_for_key
from personalize.tracking.privacy import key_for


def add_target_arguments(parser: CommandParser) -> None:
    """``--user`` or ``--visitor-id`` (exactly one)."""
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--user", help="The user's username or primary key.")
    target.add_argument(
        "--visitor-id",
        dest="visitor_id",
        help="The visitor id of an anonymous profile (32 hexadecimal digits).",
    )


def target_key(options: dict[str, Any]) -> ProfileKey:
    """The profile key chosen by ``--user`` or ``--visitor-id``.

    Raises:
        CommandError: unknown user or malformed visitor id.
    """
    try:
        return key_for(user=options.get("user"), visitor_id=options.get("visitor_id"))
    except (LookupError, ValueError) as exc:
        raise CommandError(str(exc)) from exc


class Command(BaseCommand):
    help = (
        "Print everything stored about a user or an anonymous visitor as JSON (the layout of "
        "the privacy page's download), e.g. to answer a data access request."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_target_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        document = export_for_key(target_key(options))
        self.stdout.write(json.dumps(document, indent=2, ensure_ascii=False, default=str))
