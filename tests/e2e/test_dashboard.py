"""In a real browser: a manager opens the KPI dashboard from the menu, changes the period and
sees the figures change, then drills into the bottleneck stage and sees its deals."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

# The hand-built book of the dashboard tests, whose answers are worked out there.
from tests.dashboard.conftest import dashboard_world  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots")
WIDE = {"width": 1400, "height": 900}


def _shoot(page, artifacts_dir: Path, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(800)  # let Chart.js finish its first animation
    for folder in (artifacts_dir, SHOTS):
        page.screenshot(path=folder / name, full_page=True)
    page.screenshot(path=SHOTS / f"viewport-{name}")


def test_a_manager_changes_the_period_and_drills_into_the_bottleneck(
    page,
    log_in,
    artifacts_dir,
    dashboard_world,  # noqa: F811
    monkeypatch,
):
    world = dashboard_world
    # The book's answers are worked out for Friday 29 May 2026.
    monkeypatch.setattr("dashboard.views.as_of", lambda: world.today)
    page.set_viewport_size(WIDE)

    log_in("manager")
    # By its address, not its label: the menu entry's Japanese label comes with the catalogue.
    page.locator("#mainNav a[href='/dashboard/']").click()
    page.wait_for_load_state()
    executed = page.get_by_test_id("kgi-executed_amount")
    expect(executed).to_have_attribute("data-value", "16000000")
    expect(page.get_by_test_id("period-label")).to_have_text("2026-05")
    expect(page.get_by_test_id("bottleneck-stage")).to_have_attribute("data-stage", "quoted")
    expect(page.locator("#chart-funnel")).to_be_visible()
    _shoot(page, artifacts_dir, "dashboard.png")

    page.get_by_test_id("toggle-assumptions").click()
    expect(page.locator("#id_lgd")).to_be_visible()
    page.wait_for_timeout(400)  # the panel's collapse transition
    _shoot(page, artifacts_dir, "dashboard-assumptions.png")
    page.locator("#id_lgd").fill("0.9000")
    page.get_by_test_id("apply-assumptions").click()
    page.wait_for_load_state()
    expect(page.get_by_test_id("loss-total")).to_have_text("¥184,500")  # twice ¥92,250

    page.locator("[data-field=anchor] input").fill("2026-04")
    page.get_by_test_id("apply-filters").click()
    page.wait_for_load_state()
    expect(page.get_by_test_id("period-label")).to_have_text("2026-04")
    expect(executed).to_have_attribute("data-value", "4000000")
    expect(page.get_by_test_id("previous-label")).to_have_text("2026-03")

    page.get_by_test_id("bottleneck-stalled").get_by_role("link").click()
    page.wait_for_load_state()
    expect(page.get_by_test_id("drill-count")).to_have_attribute("data-value", "4")
    for deal in world.open_quoted[:4]:
        expect(page.get_by_test_id(f"row-{deal.number}")).to_be_visible()
    _shoot(page, artifacts_dir, "dashboard-drill.png")

    page.get_by_test_id(f"row-{world.open_quoted[0].number}").get_by_role("link").click()
    page.wait_for_url(f"**/deals/{world.open_quoted[0].number}/")
    page.go_back()
    page.get_by_test_id("back").click()
    page.wait_for_load_state()
    expect(page.get_by_test_id("period-label")).to_have_text("2026-04")
