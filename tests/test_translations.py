"""The German catalogue: complete, translated, compiled, and what German visitors and editors read.

The completeness check runs Django's ``makemessages`` over a copy of the package, so a string
marked for translation without a German one fails here with its text. It needs GNU gettext
(``apt-get install gettext``): without it the check is skipped, except in CI, where it fails.
"""

from __future__ import annotations

import datetime
import gettext as gnu_gettext
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import polib
import pytest
from django.template.loader import render_to_string
from django.utils import translation

import personalize
from personalize.rule_blocks import (
    CountryRule,
    DateWindowRule,
    DeviceTypeRule,
    LoggedInRule,
    RuleGroup,
    WeekdayRule,
    choices,
    sentence,
)
from personalize.rule_blocks.country_names import COUNTRY_NAMES

PACKAGE = Path(personalize.__file__).parent
LOCALE = PACKAGE / "locale"
PO_FILE = LOCALE / "de" / "LC_MESSAGES" / "django.po"
MO_FILE = LOCALE / "de" / "LC_MESSAGES" / "django.mo"

Key = tuple[str | None, str]


def _shipped() -> polib.POFile:
    return polib.pofile(str(PO_FILE))


def _key(entry: polib.POEntry) -> Key:
    return (entry.msgctxt or None, entry.msgid)


def _gettext_tools() -> None:
    """Skip (fail in CI) when GNU gettext's xgettext is missing."""
    if shutil.which("xgettext") and shutil.which("msgmerge"):
        return
    message = "GNU gettext (xgettext, msgmerge) is not installed: apt-get install gettext"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def test_every_german_message_is_translated_and_not_fuzzy() -> None:
    catalogue = _shipped()
    untranslated = [entry.msgid for entry in catalogue.untranslated_entries()]
    fuzzy = [entry.msgid for entry in catalogue.fuzzy_entries()]
    assert untranslated == []
    assert fuzzy == []
    assert catalogue.metadata["Language"] == "de"
    assert catalogue.metadata["Plural-Forms"] == "nplurals=2; plural=(n != 1);"
    assert len(catalogue) > 800


def test_plural_messages_have_both_german_forms() -> None:
    plurals = [entry for entry in _shipped() if entry.msgid_plural]
    assert plurals
    incomplete = [e.msgid for e in plurals if not (e.msgstr_plural[0] and e.msgstr_plural[1])]
    assert incomplete == []


def test_translations_keep_the_placeholders() -> None:
    """``%(name)s`` and ``{name}`` placeholders in a translation are those of the original."""
    import re

    placeholder = re.compile(r"%\([a-z_]+\)[sd]|\{[a-z_]+\}")
    wrong = []
    for entry in _shipped():
        expected = sorted(set(placeholder.findall(entry.msgid_plural or entry.msgid)))
        texts = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
        for text in texts:
            found = sorted(set(placeholder.findall(text)))
            # A singular may leave out its count ("einmal"), nothing else.
            if found != expected and not set(found) <= set(expected):
                wrong.append((entry.msgid, text))
    assert wrong == []


def test_the_catalogue_holds_every_message_of_the_code(tmp_path: Path) -> None:
    """``makemessages`` over a copy of the package finds nothing the German catalogue lacks."""
    _gettext_tools()
    copy = tmp_path / "personalize"
    shutil.copytree(
        PACKAGE,
        copy,
        ignore=shutil.ignore_patterns("locale", "static", "__pycache__", "*.pyc", "migrations"),
    )
    (copy / "locale").mkdir()
    django_admin = Path(sys.executable).with_name("django-admin")
    result = subprocess.run(  # noqa: S603 - the venv's own django-admin, fixed arguments
        [str(django_admin), "makemessages", "-l", "de", "-d", "django", "--no-location"],
        cwd=copy,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": ""},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    found = polib.pofile(str(copy / "locale" / "de" / "LC_MESSAGES" / "django.po"))
    shipped = {_key(entry) for entry in _shipped() if not entry.obsolete}
    missing = sorted(
        f"{ctx + ' | ' if ctx else ''}{msgid}"
        for ctx, msgid in {_key(entry) for entry in found}
        if (ctx, msgid) not in shipped
    )
    assert missing == [], (
        "Strings without a German translation (run `make messages` and translate them in "
        f"{PO_FILE.relative_to(PACKAGE.parent)}):\n" + "\n".join(missing)
    )


def _mo_catalog(path: Path) -> dict[Any, str]:
    with path.open("rb") as handle:
        return dict(gnu_gettext.GNUTranslations(handle)._catalog)  # type: ignore[attr-defined]


def test_the_compiled_catalogue_matches_the_po_file(tmp_path: Path) -> None:
    """django.mo is django.po compiled: no translation is lost or stale."""
    compiled = tmp_path / "django.mo"
    _shipped().save_as_mofile(str(compiled))
    expected = _mo_catalog(compiled)
    shipped = _mo_catalog(MO_FILE)
    # The header ("") holds dates and the tool's name; the messages must be equal.
    stale = sorted(str(key) for key in expected if key and shipped.get(key) != expected[key])
    extra = sorted(str(key) for key in shipped if key and key not in expected)
    assert stale == [], "django.mo is out of date: run `make messages`"
    assert extra == []


def test_the_country_names_to_translate_are_those_of_the_data_file() -> None:
    text = (PACKAGE / "data" / "countries.txt").read_text("utf-8")
    names = tuple(
        line.split(" ", 1)[1] for line in text.splitlines() if line and not line.startswith("#")
    )
    assert names == COUNTRY_NAMES


def test_a_segment_sentence_in_german() -> None:
    def phrases() -> list[str]:
        return [
            CountryRule().phrase({"values": ["DE", "AT", "CH"]}),
            DeviceTypeRule().phrase({"values": ["mobile", "tablet"]}),
            LoggedInRule().phrase({"state": "in"}),
        ]

    with translation.override("de"):
        every = sentence(phrases(), "all")
        either = sentence(phrases(), "any")
    assert every == (
        "Besucher aus Deutschland, Österreich oder Schweiz mit einem Mobiltelefon oder einem "
        "Tablet, die angemeldet sind"
    )
    assert either == (
        "Besucher aus Deutschland, Österreich oder Schweiz oder mit einem Mobiltelefon oder "
        "einem Tablet oder solche, die angemeldet sind"
    )
    # English is unchanged.
    assert sentence(phrases(), "all") == (
        "Visitors from Germany, Austria or Switzerland on a mobile phone or a tablet "
        "who are logged in"
    )


def test_rule_words_in_german() -> None:
    with translation.override("de"):
        weekend = WeekdayRule().phrase({"values": ["6", "7"]})
        winter = DateWindowRule().phrase(
            {"start": datetime.date(2025, 12, 1), "end": datetime.date(2026, 3, 3)}
        )
        group = RuleGroup().to_python(
            {
                "match": "none",
                "rules": [
                    {"type": "device_type", "value": {"values": ["mobile"]}},
                    {"type": "logged_in", "value": {"state": "in"}},
                ],
            }
        )
        nobody = RuleGroup().phrase(group)
        continents = dict(choices.CONTINENTS)
        assert [str(continents["EU"]), str(dict(choices.DEVICE_TYPES)["mobile"])] == [
            "Europa",
            "Mobiltelefon",
        ]
        assert dict(choices.countries())["AT"] == "Österreich"
        assert choices.join_or(["a", "b", "c"]) == "a, b oder c"
    assert weekend == "am Samstag oder Sonntag"
    assert winter == "zwischen 1. Dez 2025 und 3. Mär 2026"
    assert nobody == "(weder mit einem Mobiltelefon noch die angemeldet sind)"


def test_the_consent_banner_in_german() -> None:
    from personalize.models.settings import banner_texts

    context = {
        "purposes": [{"name": "personalization", "label": "x", "granted": False}],
        "consent": None,
        "next": "/",
        "privacy_url": "/privacy/",
    }
    with translation.override("de"):
        context["texts"] = banner_texts({})
        html = render_to_string("personalize/consent_banner.html", context)
        edited = banner_texts({"banner_title": "Cookies? Ihre Wahl."})
    assert "Ihre Wahl zu persönlichen Inhalten" in html
    assert "Alle erlauben" in html
    assert "Nur notwendige" in html
    assert "Optionale Zwecke" in html
    assert "Was wir über Sie wissen" in html
    # A text the editor changed is shown as written.
    assert edited["banner_title"] == "Cookies? Ihre Wahl."
    assert edited["accept_label"] == "Alle erlauben"


def test_admin_labels_in_german() -> None:
    from personalize.admin.viewsets import ExperimentViewSet, SegmentViewSet
    from personalize.models import Segment

    with translation.override("de"):
        labels = [str(SegmentViewSet.menu_label), str(Segment._meta.verbose_name_plural)]
        columns = [str(column.label) for column in ExperimentViewSet.list_display[1:]]
    assert labels == ["Segmente", "Segmente"]
    assert "Ergebnisse" in columns
    assert "Gewinner" in columns


@pytest.mark.django_db
def test_the_segment_list_describes_segments_in_the_editors_language() -> None:
    segment = _austrian_members()
    assert segment.summary == "Visitors from Austria who are logged in"
    with translation.override("de"):
        assert segment.describe() == "Besucher aus Österreich, die angemeldet sind"
        # Saved by a German-speaking editor, the stored summary stays in the site's language.
        segment.save()
    assert segment.summary == "Visitors from Austria who are logged in"


def _austrian_members() -> Any:
    from personalize.models import Segment

    segment = Segment(name="Austrian members", slug="austrian-members")
    segment.rules = [
        ("country", {"values": ["AT"]}),
        ("logged_in", {"state": "in"}),
    ]
    segment.save()
    return segment


@pytest.mark.django_db
def test_a_scoring_rule_in_german() -> None:
    from personalize.models import ScoringRule

    rule = ScoringRule(
        name="Skier", trigger=ScoringRule.TAG, value="ski", points=10, cap_per_visit=20
    )
    with translation.override("de"):
        text = rule.describe()
    assert text == (
        "+10 Punkte für den Aufruf einer Seite mit dem Schlagwort „ski“ (höchstens 20 pro Besuch)"
    )
    assert rule.describe() == "+10 points for viewing a page tagged “ski” (at most 20 per visit)"


def test_visitors_read_their_values_in_german() -> None:
    from personalize.blocks.explanations import format_value

    cases = [(1, "time.weekday"), ("mobile", "device.type"), ("organic_search", "referral.channel")]
    cases += [("EU", "geo.continent"), (3, "time.month"), ("AT", "geo.country")]
    with translation.override("de"):
        german = [format_value(value, path) for value, path in cases]
    english = [format_value(value, path) for value, path in cases]
    assert german == ["Montag", "Mobiltelefon", "organische Suche", "Europa", "März", "Österreich"]
    assert english == ["Monday", "mobile phone", "organic search", "Europe", "March", "Austria"]
