"""Bringing pages seeded by an earlier version of the demo up to date with its data files.

Only a page that no editor has saved since (every revision made by ``seed_demo``) is changed, and
only by adding what the data files have and the page lacks:

- a personalized block without a key gets the key of the data files' block at the same place
  among the page's personalized blocks, and its variants get their keys and the A/B tests they
  lack (variants are matched by label);
- a section (a heading and the blocks up to the next one) that the page lacks is added before the
  next heading of the data files that the page has.
"""

from __future__ import annotations

import copy
from typing import Any

from wagtail.models import Page

from cms_site.home.demo_loader import PageData, References, key, to_raw

#: What a variant's A/B test consists of.
_TEST_FIELDS = ("alternatives", "weight", "holdout")


def seeded_only(page: Page) -> bool:
    """Whether every revision of ``page`` was made by the seed (none by an editor)."""
    return not page.revisions.exclude(user=None).exists()


def upgrade_page(page: Page, data: PageData, refs: References) -> bool:
    """Add what ``data`` has and ``page`` lacks, publishing a new revision if anything changed.

    Returns:
        Whether the page changed.
    """
    body = copy.deepcopy(list(page.body.raw_data))
    headings = {item.get("value") for item in body if item.get("type") == "heading"}
    keyless = any(not value.get("key") for value in _personalized(body))
    wanted_headings = [item["heading"] for item in data.fields.get("body", []) if "heading" in item]
    missing = any(heading not in headings for heading in wanted_headings)
    if not (keyless or missing) or not seeded_only(page):
        return False  # the usual case: the references of the data files need not resolve
    block = type(page)._meta.get_field("body").stream_block
    wanted = to_raw(block, data.fields["body"], f"{data.where}: body", refs)
    changed = _add_keys_and_tests(body, wanted)
    changed = _add_sections(body, wanted) or changed
    if changed:
        page.body = body
        page.save_revision().publish()
    return changed


def _add_keys_and_tests(body: list[dict[str, Any]], wanted: list[dict[str, Any]]) -> bool:
    changed = False
    for have, want in zip(_personalized(body), _personalized(wanted), strict=False):
        if have.get("key") or not want.get("key"):
            continue
        variants = {variant.get("label"): variant for variant in want.get("variants", [])}
        for variant in have.get("variants", []):
            label = variant.get("label", "")
            match = variants.get(label, {})
            if not variant.get("alternatives") and match.get("alternatives"):
                variant.update({name: match[name] for name in _TEST_FIELDS if name in match})
            variant["key"] = variant.get("key") or match.get("key") or key(f"{want['key']}/{label}")
        have["key"] = want["key"]
        changed = True
    return changed


def _personalized(body: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [item["value"] for item in body if item.get("type") == "personalized"]


def _add_sections(body: list[dict[str, Any]], wanted: list[dict[str, Any]]) -> bool:
    sections = _sections(wanted)
    have = {item.get("value") for item in body if item.get("type") == "heading"}
    changed = False
    for n, (heading, items) in enumerate(sections):
        if heading in have:
            continue
        after = next((later for later, _ in sections[n + 1 :] if later in have), None)
        at = next(
            (
                i
                for i, item in enumerate(body)
                if item.get("type") == "heading" and item.get("value") == after
            ),
            len(body),
        )
        body[at:at] = copy.deepcopy(items)
        have.add(heading)
        changed = True
    return changed


def _sections(body: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """The body's headings, each with the blocks from it up to the next heading."""
    sections: list[tuple[str, list[dict[str, Any]]]] = []
    for item in body:
        if item["type"] == "heading":
            sections.append((item["value"], []))
        if sections:
            sections[-1][1].append(item)
    return sections
