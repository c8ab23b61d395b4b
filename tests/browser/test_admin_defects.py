"""In a real browser: admin pages that used to stop the demo's editor now work.

- "Add experiment" told a superuser they lacked permission; it now explains where experiments
  come from, on the experiments list.
- The seeded admin had no last name, so Account settings (e.g. the admin's language) could not
  be saved.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.test_editor_flow import log_in_to_admin

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_adding_an_experiment_explains_how_experiments_come_to_be(
    demo_site: str, new_page: Any, screenshot: Any
) -> None:
    base = demo_site
    editor = new_page()
    log_in_to_admin(editor, base)

    editor.goto(f"{base}/admin/snippets/personalize/experiment/add/")

    editor.wait_for_url(f"{base}/admin/snippets/personalize/experiment/")
    messages = editor.locator(".messages")
    expect(messages).to_contain_text("Experiments are not added here")
    expect(messages).to_contain_text("give a variant of a personalized block alternatives")
    expect(editor.get_by_text("permission", exact=False)).to_have_count(0)
    # The list offers no "Add" button that would lead back to the explanation.
    expect(editor.get_by_role("link", name="Add experiment")).to_have_count(0)
    screenshot(editor, "admin-experiment-add")


def test_seeded_admin_saves_account_settings(
    demo_site: str, new_page: Any, screenshot: Any
) -> None:
    from django.contrib.auth.models import User

    base = demo_site
    editor = new_page()
    log_in_to_admin(editor, base)

    editor.goto(f"{base}/admin/account/")
    name = editor.get_by_role("textbox", name="Last Name")
    expect(name).to_have_value("Lovelace")
    name.fill("Lovelace-King")
    editor.get_by_role("button", name="Save", exact=True).click()

    expect(editor.locator(".messages")).to_contain_text("changed successfully")
    assert User.objects.get(username="admin").last_name == "Lovelace-King"
    screenshot(editor, "admin-account-saved")
