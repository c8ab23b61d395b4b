"""In a real browser: an editor reads the demo's A/B test in the report, first with almost no
data ("Not enough data yet"), then with enough (uplift, P(beat control), P(best)).

Screenshots are written to tests/artifacts/ and, for the docs, to docs/images/report.png.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.docs_images import for_docs
from tests.browser.test_editor_flow import log_in_to_admin
from tests.test_analytics_report import exact_p_beat

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EXPERIMENT = "Home page: phones call, message or come in?"
PHONES_SEGMENT = "mobile-visitors"
#: Exposed and converted visitors per alternative (control first), as the flush records them.
FEW = [(1, 1), (1, 0), (1, 0)]
ENOUGH = [(400, 40), (300, 45), (300, 24)]


def record(experiment: Any, day: date, arms: list[tuple[int, int]]) -> None:
    """``DailyCount`` rows of the experiment's exposures and conversions on ``day``."""
    from personalize.analytics.flush import parse_field
    from personalize.models import DailyCount, Segment

    page, block, key = experiment.page_id, experiment.block_key, experiment.key
    segment = Segment.objects.get(slug=PHONES_SEGMENT).pk
    counts = {}
    for arm, (exposed, converted) in enumerate(arms):
        if not exposed:
            continue
        counts[f"imp|{page}|{block}|{key}|{arm}|{segment}"] = exposed
        counts[f"exp|{page}|{block}|{key}|{arm}|{segment}"] = exposed
        if converted:
            counts[f"conv|{experiment.goal_id}|{page}|{block}|{key}|{arm}|{segment}"] = converted
    for field, n in counts.items():
        DailyCount.objects.create(date=day, field=field, count=n, **parse_field(field))


def table_row(page: Any, label: str) -> Any:
    """The report's table row of the alternative called ``label``."""
    header = page.get_by_role("rowheader", name=label)
    return page.locator("table.pz-table tbody tr").filter(has=header)


def test_report_waits_for_enough_data_then_shows_p_beat_control(
    demo_site: str, new_page: Any, screenshot: Any
) -> None:
    from personalize.models import Experiment

    base = demo_site
    experiment = Experiment.objects.get(name=EXPERIMENT)
    labels = [arm["label"] for arm in experiment.arms]
    today = datetime.now(UTC).date()
    record(experiment, today - timedelta(days=1), FEW)

    editor = new_page()
    log_in_to_admin(editor, base)
    editor.goto(f"{base}/admin/snippets/personalize/experiment/")
    editor.get_by_role("link", name="Results").first.click()
    expect(editor.get_by_role("heading", name="Personalized blocks")).to_be_visible()
    blocks = editor.locator("section[aria-labelledby=pz-blocks-heading]")
    table = blocks.locator("table.pz-table").first
    expect(blocks.get_by_text("Not enough data yet")).to_have_count(3)
    expect(table_row(editor, labels[1])).to_contain_text(
        "1 of 100 visitors · control: 1 of 100 visitors · 1 of 10 conversions with the control"
    )
    expect(blocks).not_to_contain_text("100.0%")  # no −100.0% uplift from one visitor each
    expect(blocks).to_contain_text("An alternative is compared with the control once both")
    path = screenshot(editor, "40-report-not-enough-data")
    table.screenshot(path=str(path.with_name("40-report-table.png")), animations="disabled")

    # The control and B have enough, C not yet: B is compared, P(best) waits for C.
    record(experiment, today - timedelta(days=2), [*ENOUGH[:2], (0, 0)])
    editor.reload()
    expect(blocks.get_by_text("Not enough data yet")).to_have_count(1)
    expect(table_row(editor, labels[2])).to_contain_text("1 of 100 visitors")
    expect(table_row(editor, labels[1]).locator("td").nth(6)).to_have_text("—")
    expect(blocks).to_contain_text("P(best) compares every alternative")
    path = screenshot(editor, "41-report-partly-enough")
    table.screenshot(path=str(path.with_name("41-report-table.png")), animations="disabled")

    record(experiment, today - timedelta(days=3), [(0, 0), (0, 0), ENOUGH[2]])
    editor.reload()
    expect(blocks.get_by_text("Not enough data yet")).to_have_count(0)
    header = editor.get_by_role("columnheader", name="P(beat control)")
    expect(header).to_be_visible()
    # The cells: impressions, exposed, conversions, rate, uplift, P(beat control), P(best).
    control = table_row(editor, labels[0]).locator("td")
    expect(control.nth(5)).to_have_text("—")
    totals = [(n + 1, c + (arm == 0)) for arm, (n, c) in enumerate(ENOUGH)]
    for arm in (1, 2):
        p_beat = exact_p_beat(totals[0], totals[arm])
        shown = table_row(editor, labels[arm]).locator("td").nth(5).inner_text()
        assert shown.endswith("%")
        assert abs(int(shown.rstrip("%")) - 100 * p_beat) <= 1, (labels[arm], shown, p_beat)
    (n_a, c_a), (n_b, c_b) = totals[0], totals[1]
    uplift = (c_b / n_b) / (c_a / n_a) - 1
    expect(table_row(editor, labels[1]).locator("td").nth(4)).to_contain_text(f"+{uplift:.1%}")

    table.scroll_into_view_if_needed()
    path = screenshot(editor, "42-report-enough-data")
    table.screenshot(path=str(path.with_name("42-report-table.png")), animations="disabled")
    for_docs(path.with_name("42-report-table.png"), "report")
