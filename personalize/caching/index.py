"""What a published page's response depends on, indexed without rendering it.

Every personalized, gated, preference and audience-restricted block of the live revision, found
anywhere in the page's StreamFields (inside a personalized block's variants too), is reduced to
the plain data its decision needs (:mod:`personalize.caching.entries`): a variant's segments, key
and experiment weights; a gate's requirement, groups and segments; a question's key; an audience
setting's audience, groups and segments (:mod:`personalize.blocks.audience`).
:func:`decide_page <personalize.caching.keys.decide_page>` takes the same decisions from this
index that the blocks take while rendering.

Indexes are found by path (:func:`index_and_site`): from process memory or, once per process
after a page changed, by Wagtail's own routing and a walk of the page. Publishing, unpublishing,
moving or deleting any page moves the ``pages`` version, which every request reads in its one
``MGET``, so every process forgets its indexes at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from django.http import Http404, HttpRequest
from django.urls import Resolver404, resolve
from django.utils import translation
from wagtail import blocks
from wagtail.fields import StreamField

from personalize.blocks.audience import audience_setting
from personalize.blocks.decisions import audience_parts
from personalize.blocks.gated import GatedBlock
from personalize.blocks.personalized import PersonalizedBlock
from personalize.blocks.preference import PreferenceBlock
from personalize.cache import CacheUnavailable, CacheVersionStore
from personalize.caching.entries import Audience, Gate, Variant, variant_from_json, variant_json
from personalize.caching.locales import locale_code
from personalize.caching.memory import MEMORY_SIZE, VersionedMemory
from personalize.conf import register_reset
from personalize.segments import VersionStoreError
from personalize.tracking.events import PageFacts, page_tags

logger = logging.getLogger(__name__)

__all__ = ["MEMORY_SIZE", "Audience", "Gate", "PageIndex", "Variant", "build_index"]

@dataclass(frozen=True, slots=True)
class PageIndex:
    """The decisions a page's response depends on, and the page facts tracking needs.

    Attributes:
        page_id: the page.
        revision_id: its live revision (part of the key: a new publication is new content).
        locale: the page's language code.
        page_type: ``app_label.model`` of the specific page, for page-view events.
        personalized: ``(block key, variants)`` per personalized block.
        gates: every gated block.
        preferences: the key of every preference question.
        audiences: every audience setting other than "everyone" (see
            :mod:`personalize.blocks.audience`).
    """

    page_id: int
    revision_id: int | None
    locale: str
    page_type: str = ""
    #: The page's tags, for page-view events.
    tags: tuple[str, ...] = ()
    personalized: tuple[tuple[str, tuple[Variant, ...]], ...] = ()
    gates: tuple[Gate, ...] = ()
    preferences: tuple[str, ...] = ()
    audiences: tuple[Audience, ...] = ()
    #: Segment ids any block of the page refers to.
    segment_ids: frozenset[int] = field(default_factory=frozenset)

    def facts(self) -> PageFacts:
        """What a page view of this page records."""
        return PageFacts(self.page_id, self.page_type, self.tags)

    @property
    def personal(self) -> bool:
        """Whether any block of the page decides per visitor."""
        return bool(self.personalized or self.gates or self.preferences or self.audiences)

    def to_json(self) -> dict[str, Any]:
        """Plain data for the shared cache."""
        return {
            "page": self.page_id,
            "revision": self.revision_id,
            "locale": self.locale,
            "type": self.page_type,
            "tags": list(self.tags),
            "personalized": [
                [key, [variant_json(v) for v in variants]] for key, variants in self.personalized
            ],
            "gates": [[g.requirement, list(g.groups), list(g.segments)] for g in self.gates],
            "preferences": list(self.preferences),
            "audiences": [
                [a.key, a.who, list(a.groups), list(a.segments)] for a in self.audiences
            ],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PageIndex:
        """The index :meth:`to_json` wrote.

        Raises:
            KeyError, TypeError, ValueError: ``data`` is not such an index.
        """
        personalized = tuple(
            (str(key), tuple(variant_from_json(v) for v in variants))
            for key, variants in data["personalized"]
        )
        gates = tuple(
            Gate(str(req), tuple(map(str, groups)), tuple(map(int, segments)))
            for req, groups, segments in data["gates"]
        )
        return _indexed(
            page_id=int(data["page"]),
            revision_id=None if data["revision"] is None else int(data["revision"]),
            locale=str(data["locale"]),
            page_type=str(data["type"]),
            tags=tuple(map(str, data["tags"])),
            personalized=personalized,
            gates=gates,
            preferences=tuple(map(str, data["preferences"])),
            audiences=tuple(
                Audience(str(key), str(who), tuple(map(str, groups)), tuple(map(int, segments)))
                for key, who, groups, segments in data["audiences"]
            ),
        )


def _indexed(**fields: Any) -> PageIndex:
    ids: set[int] = set()
    for _, variants in fields["personalized"]:
        for variant in variants:
            ids.update(variant.segments)
    for gate in fields["gates"]:
        ids.update(gate.segments)
    for audience in fields["audiences"]:
        ids.update(audience.segments)
    return PageIndex(**fields, segment_ids=frozenset(ids))


def build_index(page: Any) -> PageIndex:
    """Index the live content of ``page`` (its specific form is walked)."""
    specific = page.specific
    found = _Found()
    for model_field in specific._meta.get_fields():
        if isinstance(model_field, StreamField):
            for child in getattr(specific, model_field.name) or []:
                found.walk(child.block, child.value)
    locale = locale_code(specific)
    return _indexed(
        page_id=specific.pk,
        revision_id=specific.live_revision_id,
        locale=locale,
        page_type=type(specific)._meta.label_lower,
        tags=page_tags(page),
        personalized=tuple(found.personalized),
        gates=tuple(found.gates),
        preferences=tuple(found.preferences),
        audiences=tuple(found.audiences),
    )


class _Found:
    def __init__(self) -> None:
        self.personalized: list[tuple[str, tuple[Variant, ...]]] = []
        self.gates: list[Gate] = []
        self.preferences: list[str] = []
        self.audiences: list[Audience] = []

    def walk(self, block: Any, value: Any) -> None:
        if value is None:
            return
        if isinstance(block, PersonalizedBlock):
            self._personalized(block, value)
        elif isinstance(block, GatedBlock):
            self.gates.append(
                Gate(
                    value["requirement"],
                    tuple(sorted(value["groups"] or ())),
                    tuple(sid for sid in value["segments"] if sid is not None),
                )
            )
            self.walk(block.child_blocks["content"], value["content"])
        elif isinstance(block, PreferenceBlock):
            self.preferences.append(value["key"])
        elif isinstance(block, blocks.StreamBlock):
            for child in value:
                self.walk(child.block, child.value)
        elif isinstance(block, blocks.StructBlock):
            self._audience(block, value)
            for name, child_block in block.child_blocks.items():
                self.walk(child_block, value.get(name))
        elif isinstance(block, blocks.ListBlock):
            for item in value:
                self.walk(block.child_block, item)

    def _audience(self, block: Any, value: Any) -> None:
        who, segments, groups, key = audience_parts(audience_setting(block, value))
        if who != "everyone":
            self.audiences.append(Audience(key, who, tuple(sorted(groups)), segments))

    def _personalized(self, block: PersonalizedBlock, value: Any) -> None:
        variants = []
        stream = block.child_blocks["default"]
        for variant in value["variants"]:
            alternatives = list(variant.get("alternatives") or [])
            variants.append(
                Variant(
                    label=variant["label"],
                    segments=tuple(sid for sid in variant["segments"] if sid is not None),
                    key=variant.get("key") or "",
                    weight=float(variant.get("weight") or 0),
                    holdout=int(variant.get("holdout") or 0),
                    alternatives=tuple(
                        (a.get("label") or "", float(a.get("weight") or 0)) for a in alternatives
                    ),
                )
            )
            # Gates and questions inside the variant's content (and its alternatives).
            self.walk(stream, variant["content"])
            for alternative in alternatives:
                self.walk(stream, alternative["content"])
        self.walk(stream, value["default"])
        self.personalized.append((value.get("key") or "", tuple(variants)))


#: The version every request reads: moved by any publication, unpublication, move or deletion.
pages_version = CacheVersionStore("pages")


def pages_changed(**kwargs: Any) -> None:
    """Announce that some page changed: every process forgets its indexes."""
    pages_version.bump()


#: (site id, path, active language) → the page's index, or None for a path that is no live page.
_memory: VersionedMemory[tuple[int, str, str], PageIndex | None] = VersionedMemory(MEMORY_SIZE)
#: (host, port) → the site's id, or None for a host no site serves.
_sites: VersionedMemory[tuple[str, str], int | None] = VersionedMemory(MEMORY_SIZE)
register_reset(_memory.reset)
register_reset(_sites.reset)


def index_and_site(request: HttpRequest) -> tuple[PageIndex, int] | None:
    """The index of the live page the request's path serves and its site's id, or None.

    Warm, this costs no query and no round trip of its own: the ``pages`` version arrives with
    the request's ``MGET`` and the index is in process memory. Cold (the first request for a
    path in a process after a page changed), the path is routed as Wagtail's ``serve`` view
    routes it and the page walked. While the shared cache is unreachable, nothing is indexed:
    pages render and stay private, as without the page cache.
    """
    from wagtail.models import Site

    try:
        version = pages_version.current()
    except (CacheUnavailable, VersionStoreError):
        return None
    host = (request.get_host().split(":")[0].lower(), request.get_port())
    known, site_id = _sites.get(version, host)
    site = None
    if not known:
        # Wagtail's own lookup costs a query; its answer holds until a site or page changes.
        site = Site.find_for_request(request)
        site_id = site.pk if site is not None else None
        _sites.put(version, host, site_id)
    if site_id is None:
        return None
    # Where the language comes from the browser (``LocaleMiddleware`` without a prefix), one
    # path routes to another page per language.
    key = (site_id, request.path, translation.get_language() or "")
    known, index = _memory.get(version, key)
    if not known:
        site = site or Site.objects.get(pk=site_id)
        index = _route(request, site)
        _memory.put(version, key, index)
    return None if index is None else (index, site_id)


def index_for_page(page: Any) -> PageIndex:
    """The index of a live page found otherwise (GraphQL), remembered like the ones by path."""
    try:
        version = pages_version.current()
    except (CacheUnavailable, VersionStoreError):
        return build_index(page)
    key = (0, f"#{page.pk}", "")
    known, index = _memory.get(version, key)
    if not known or index is None:
        index = build_index(page)
        _memory.put(version, key, index)
    return index


def _route(request: HttpRequest, site: Any) -> PageIndex | None:
    """Route the path as Wagtail's ``serve`` view would, and index the page found.

    Only paths that Wagtail's ``serve`` view answers are pages (whatever prefix or language
    patterns the site mounts it under).
    """
    from wagtail.views import serve

    try:
        match = resolve(request.path_info)
    except Resolver404:
        return None
    if match.func is not serve:
        return None
    path = match.kwargs.get("path", match.args[0] if match.args else "")
    components = [part for part in str(path).split("/") if part]
    try:
        root = site.root_page.localized.specific
        result = root.route(request, components)
    except Http404:
        return None
    page = getattr(result, "page", None) or result[0]
    if not page.live:
        return None
    return build_index(page)
