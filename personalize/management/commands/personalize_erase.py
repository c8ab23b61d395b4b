"""``manage.py personalize_erase``: delete what is stored about a user or visitor."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from personalize.management.commands.personalize_export import add_target_arguments, target_key
from personalize.profiles.store import profile_store
from personalize.tracking.erasure import forget_analytics


class Command(BaseCommand):
    help = (
        "Delete the stored profile of a user or an anonymous visitor (and its cached copies), "
        "e.g. to answer an erasure request."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_target_arguments(parser)
        parser.add_argument(
            "--yes",
            "--noinput",
            "--no-input",
            action="store_false",
            dest="interactive",
            help="Do not ask for confirmation.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        key = target_key(options)
        who = (
            f"user {options['user']!r}" if key.user_id is not None else f"visitor {key.visitor_id}"
        )
        if options["interactive"]:
            answer = input(f"Erase everything stored about {who}? This cannot be undone. [y/N] ")
            if answer.strip().lower() not in ("y", "yes"):
                raise CommandError("Erasure cancelled.")
        store = profile_store()
        visitor_id = key.visitor_id or store.visitor_id_of(key)
        deleted = store.erase(key)
        if visitor_id:
            forget_analytics(visitor_id)
        noun = "profile" if deleted == 1 else "profiles"
        self.stdout.write(f"Deleted {deleted} {noun} of {who}.")
