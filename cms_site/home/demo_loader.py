"""The demo site's content, read from the data files in ``demo_content/``.

The files hold everything ``manage.py seed_demo`` creates: the page tree with its copy and
StreamField blocks, segments, scoring rules, goals, funnels, experiments, the site and its logins
(``demo_content/README.md`` describes them). This module reads them, checks that every reference
between items resolves before anything is written, and turns items into field values in the form
Wagtail stores them:

- a block is written ``{block_type: value}``; rich text may be a list of paragraphs;
- a segment chooser names the segment by its slug, a page chooser the page by its path
  (``/guides/``); a block's key is a name, made into the same 32 hex digits in every database;
- a funnel's steps and an experiment's goal name goals; an experiment names its variant's key.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.core.management.base import CommandError
from django.db import models
from wagtail import blocks
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Page

from personalize.blocks import KeyBlock
from personalize.models import Goal, ScoringRule, Segment

#: The demo's own data files.
CONTENT_DIR = Path(__file__).resolve().parent / "demo_content"

#: Namespace of the seeded blocks' and variants' keys (see :func:`key`).
_KEYS = uuid.UUID("5b0f7c9e-2a41-4d3b-9e57-0c6a8d1f4e22")

#: What a page item holds besides its model's fields.
_PAGE_KEYS = {"type", "tags", "children"}


class DemoContentError(CommandError):
    """A data file cannot be read, or an item in it is malformed or names something unknown."""


def key(name: str) -> str:
    """The stable key (32 hex digits) of a seeded block or variant named ``name``.

    The same in every database seeded, so reports and the A/B test are found again by it.
    """
    return uuid.uuid5(_KEYS, name).hex


def rich_text(value: str | list[str]) -> str:
    """Rich text as stored: a list of paragraphs becomes ``<p>…</p>`` each, HTML stays as is."""
    return value if isinstance(value, str) else "".join(f"<p>{text}</p>" for text in value)


@dataclass(frozen=True)
class PageData:
    """One page of the demo's tree, as its data file describes it."""

    file: str  #: the data file, relative to the content folder
    path: str  #: its path on the site: ``/`` for the home page, ``/guides/`` below it
    model: type[Page]
    fields: dict[str, Any]  #: model fields in their data-file form
    tags: list[str] = field(default_factory=list)
    children: list[PageData] = field(default_factory=list)

    @property
    def where(self) -> str:
        """The file and page, for error messages."""
        return f"{self.file}, page {self.path}"

    def walk(self) -> Iterator[PageData]:
        """This page and every page below it, in the order they are created."""
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass(frozen=True)
class DemoContent:
    """Everything the data files describe."""

    site: dict[str, Any]
    users: list[dict[str, Any]]
    segments: list[dict[str, Any]]
    scoring_rules: list[dict[str, Any]]
    goals: list[dict[str, Any]]
    funnels: list[dict[str, Any]]
    experiments: list[dict[str, Any]]
    home: PageData


class References:
    """Turns the names data files use for other items into database ids.

    Args:
        root: the URL path (``Page.url_path``) the home page has, e.g. ``/home/``.
    """

    def __init__(self, root: str) -> None:
        self.root = root

    def segment(self, slug: str, where: str) -> int:
        """The id of the segment with this slug."""
        pk = Segment.objects.filter(slug=slug).values_list("pk", flat=True).first()
        if pk is None:
            raise DemoContentError(f"{where}: no segment with the slug {slug!r}")
        return pk

    def page(self, path: str, where: str) -> int:
        """The id of the page at this path of the site (created earlier in the tree)."""
        url_path = self.root + path.lstrip("/")
        pk = Page.objects.filter(url_path=url_path).values_list("pk", flat=True)
        if not pk:
            raise DemoContentError(
                f"{where}: no page at {path!r} yet (pages are created in the order of the tree, "
                "so a page can only choose a page that comes before it)"
            )
        return pk[0]

    def key(self, name: str, where: str) -> str:
        """A block's key from its name (see :func:`key`)."""
        return key(name)


class _Names(References):
    """References checked against the data files alone, before anything is written."""

    def __init__(self, segments: set[str], pages: set[str]) -> None:
        super().__init__("/")
        self.segments, self.pages, self.keys = segments, pages, set[str]()

    def segment(self, slug: str, where: str) -> int:
        if slug not in self.segments:
            raise DemoContentError(f"{where}: no segment with the slug {slug!r} in segments.yaml")
        return 0

    def page(self, path: str, where: str) -> int:
        if path not in self.pages:
            raise DemoContentError(f"{where}: no page at {path!r} in the page tree")
        return 0

    def key(self, name: str, where: str) -> str:
        if name in self.keys:
            raise DemoContentError(f"{where}: the key {name!r} is used twice")
        self.keys.add(name)
        return key(name)


def to_raw(block: blocks.Block, value: Any, where: str, refs: References) -> Any:
    """The value of ``block`` written in a data file, in the form Wagtail stores it.

    Raises:
        DemoContentError: a block type or field is unknown, or a reference does not resolve.
    """
    if isinstance(block, blocks.StreamBlock):
        return [_item(block, item, f"{where}[{n}]", refs) for n, item in enumerate(value or [])]
    if isinstance(block, blocks.StructBlock) and isinstance(value, dict):
        unknown = sorted(set(value) - set(block.child_blocks))
        if unknown:
            raise DemoContentError(f"{where}: unknown field {unknown[0]!r}")
        return {
            name: to_raw(block.child_blocks[name], item, f"{where}.{name}", refs)
            for name, item in value.items()
        }
    if isinstance(block, blocks.ListBlock):
        return [to_raw(block.child_block, v, f"{where}[{n}]", refs) for n, v in enumerate(value)]
    if isinstance(block, blocks.RichTextBlock):
        return rich_text(value)
    if isinstance(block, KeyBlock):
        return refs.key(value, where) if value else ""
    if isinstance(block, blocks.ChooserBlock) and value is not None:
        if issubclass(block.target_model, Segment):
            return refs.segment(value, where)
        if issubclass(block.target_model, Page):
            return refs.page(value, where)
    return value


def _item(block: blocks.StreamBlock, item: Any, where: str, refs: References) -> dict[str, Any]:
    if not isinstance(item, dict) or len(item) != 1:
        raise DemoContentError(f"{where}: write a block as {{block_type: value}}, got {item!r}")
    ((name, value),) = item.items()
    if name not in block.child_blocks:
        raise DemoContentError(f"{where}: unknown block type {name!r}")
    return {"type": name, "value": to_raw(block.child_blocks[name], value, f"{where} {name}", refs)}


def field_values(
    model: type[models.Model], data: dict[str, Any], where: str, refs: References
) -> dict[str, Any]:
    """Keyword arguments for ``model`` from an item of a data file.

    StreamFields and rich text are converted, a foreign key to a page is given by the page's path.

    Raises:
        DemoContentError: the model has no such field, or a reference does not resolve.
    """
    values: dict[str, Any] = {}
    for name, value in data.items():
        try:
            model_field = model._meta.get_field(name)
        except FieldDoesNotExist:
            raise DemoContentError(f"{where}: {model.__name__} has no field {name!r}") from None
        if isinstance(model_field, StreamField):
            values[name] = to_raw(model_field.stream_block, value, f"{where}: {name}", refs)
        elif isinstance(model_field, RichTextField):
            values[name] = rich_text(value)
        elif model_field.is_relation and issubclass(model_field.related_model, Page):
            values[model_field.attname] = refs.page(value, f"{where}: {name}") if value else None
        else:
            values[name] = model_field.to_python(value)
    return values


def load_demo(directory: Path = CONTENT_DIR) -> DemoContent:
    """Read and check the data files in ``directory``.

    Raises:
        DemoContentError: a file is missing or malformed, or an item names something unknown;
            the message names the file and the item.
    """
    site, segments = _read(directory, "site.yaml"), _read(directory, "segments.yaml")
    analytics = _read(directory, "analytics.yaml")
    content = DemoContent(
        site=site.get("site", {}),
        users=site.get("users", []),
        segments=segments.get("segments", []),
        scoring_rules=_read(directory, "scoring.yaml").get("scoring_rules", []),
        goals=analytics.get("goals", []),
        funnels=analytics.get("funnels", []),
        experiments=analytics.get("experiments", []),
        home=_page(directory, "pages/home.yaml", _read(directory, "pages/home.yaml"), None),
    )
    _check(content)
    return content


def _read(directory: Path, name: str) -> Any:
    try:
        data = yaml.safe_load((directory / name).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise DemoContentError(f"{name}: {error}") from error
    if not isinstance(data, dict):
        raise DemoContentError(f"{name}: expected a mapping at the top")
    return data


def _page(directory: Path, file: str, data: dict[str, Any], parent: str | None) -> PageData:
    where = f"{file}, page {data.get('slug', '?')!r}"
    try:
        model = apps.get_model(data.get("type", "home.ContentPage"))
        path = "/" if parent is None else f"{parent}{data['slug']}/"
    except (LookupError, ValueError, KeyError) as error:
        raise DemoContentError(f"{where}: needs a slug and a page type: {error}") from None
    children = []
    for child in data.get("children", []):
        if isinstance(child, str):  # a file beside this one, holding the child and its subtree
            child_file = str(Path(file).parent / child)
            children.append(_page(directory, child_file, _read(directory, child_file), path))
        else:
            children.append(_page(directory, file, child, path))
    fields = {name: value for name, value in data.items() if name not in _PAGE_KEYS}
    return PageData(file, path, model, fields, list(data.get("tags", [])), children)


def _check(content: DemoContent) -> None:
    """Resolve every reference against the data files alone, so a bad one writes nothing."""
    pages = list(content.home.walk())
    names = _Names({item["slug"] for item in content.segments}, {page.path for page in pages})
    for page in pages:
        field_values(page.model, page.fields, page.where, names)
    for file, model, items in [
        ("segments.yaml", Segment, content.segments),
        ("scoring.yaml", ScoringRule, content.scoring_rules),
        ("analytics.yaml", Goal, content.goals),
    ]:
        for n, item in enumerate(items):
            where = f"{file}, item {n + 1} {item.get('slug') or item.get('name')!r}"
            field_values(model, item, where, names)
    goals = {goal["name"] for goal in content.goals}
    for funnel in content.funnels:
        unknown = sorted(set(funnel["steps"]) - goals)
        if unknown:
            raise DemoContentError(
                f"analytics.yaml, funnel {funnel['name']!r}: no goal {unknown[0]!r}"
            )
    for experiment in content.experiments:
        where = f"analytics.yaml, experiment {experiment['name']!r}"
        if experiment["goal"] not in goals:
            raise DemoContentError(f"{where}: no goal {experiment['goal']!r}")
        if experiment["variant"] not in names.keys:
            raise DemoContentError(f"{where}: no variant with the key {experiment['variant']!r}")
