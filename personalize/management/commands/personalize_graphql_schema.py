"""``manage.py personalize_graphql_schema``: print the site's GraphQL schema in SDL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.module_loading import import_string


def schema_sdl(dotted_path: str) -> str:
    """The SDL of the graphene schema at ``dotted_path``, ending in one newline.

    Raises:
        CommandError: the path cannot be imported or does not name a graphene schema.
    """
    try:
        schema = import_string(dotted_path)
    except ImportError as exc:
        raise CommandError(
            f"Cannot import the GraphQL schema {dotted_path!r}: {exc}. "
            "Give a dotted path such as 'mysite.schema.schema'."
        ) from exc
    except Exception as exc:  # the schema's module itself failed while importing
        raise CommandError(
            f"Importing the GraphQL schema {dotted_path!r} failed: {type(exc).__name__}: {exc}"
        ) from exc
    if not hasattr(schema, "graphql_schema"):
        raise CommandError(
            f"{dotted_path!r} is not a graphene.Schema (got {type(schema).__name__}); build one "
            "with graphene.Schema(query=Query, types=personalize.graphql.TYPES)."
        )
    return str(schema).rstrip("\n") + "\n"


class Command(BaseCommand):
    help = (
        "Print the site's GraphQL schema in SDL (schema definition language); "
        'by default the one named by settings.GRAPHENE["SCHEMA"].'
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--schema",
            help='Dotted path of a graphene.Schema; defaults to settings.GRAPHENE["SCHEMA"].',
        )
        parser.add_argument(
            "--output", help="Write the SDL to this file instead of standard output."
        )

    def handle(
        self, *args: Any, schema: str | None = None, output: str | None = None, **options: Any
    ) -> None:
        dotted_path = schema or self._default_schema()
        sdl = schema_sdl(dotted_path)
        if output:
            try:
                Path(output).write_text(sdl, encoding="utf-8")
            except OSError as exc:
                raise CommandError(f"Cannot write the schema to {output!r}: {exc}") from exc
            return
        self.stdout.write(sdl, ending="")

    @staticmethod
    def _default_schema() -> str:
        configured = getattr(settings, "GRAPHENE", None)
        dotted_path = configured.get("SCHEMA") if isinstance(configured, dict) else None
        if not dotted_path or not isinstance(dotted_path, str):
            raise CommandError(
                'No GraphQL schema configured: set GRAPHENE = {"SCHEMA": "mysite.schema.schema"} '
                "in your settings, or pass --schema mysite.schema.schema."
            )
        return dotted_path
