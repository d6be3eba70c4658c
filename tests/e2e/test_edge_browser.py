"""The tablet's harvest form in headless Chromium against a real `cocoa-edge serve`."""

from __future__ import annotations

import json

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.e2e.harness import Edge
from tests.support.servers import REPO_ROOT

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SAMPLE = REPO_ROOT / "edge" / "sample"


@pytest.fixture
def served_tablet(tablet_of, processes) -> Edge:
    tablet = tablet_of("tablet")
    tablet.cli("import-farmers", str(SAMPLE / "farmers.csv"))
    tablet.cli("import-plots", str(SAMPLE / "plots.geojson"))
    return tablet.serve(processes)


def fill_harvest(page, farmer: str, plot: str, kg: str) -> None:
    if farmer:
        Select(page.find_element(By.NAME, "farmer")).select_by_value(farmer)
    if plot:
        Select(page.find_element(By.NAME, "plot")).select_by_value(plot)
    page.find_element(By.NAME, "kg").send_keys(kg)
    # Typing into a date input depends on the browser's locale; set it directly.
    date = page.find_element(By.NAME, "harvested_on")
    page.execute_script("arguments[0].value = '2026-11-03'", date)
    page.find_element(By.CSS_SELECTOR, "form button").click()


def test_a_harvest_typed_with_a_comma_is_signed_in_grams(
    served_tablet, browser_page, tmp_path
):
    page = browser_page
    page.get(served_tablet.url + "/harvests/new")

    fill_harvest(page, "DEMO-0003", "DEMO-0003-P1", "12,5")
    page.save_screenshot(str(tmp_path / "harvest-saved.png"))

    flash = page.find_element(By.CSS_SELECTOR, ".flash.ok").text
    rows = served_tablet.rows("SELECT raw FROM journal WHERE type = 'harvest'")
    bodies = [json.loads(raw)["body"] for (raw,) in rows]
    verified = served_tablet.cli("verify", check=False)
    assert flash.startswith("Saved and signed: harvest")
    assert [(b["farmer"], b["plot"], b["mass_g"]) for b in bodies] == [
        ("DEMO-0003", "DEMO-0003-P1", 12_500)
    ]
    assert verified.returncode == 0, verified.stdout


def test_an_invalid_harvest_shows_each_fields_error_and_signs_nothing(
    served_tablet, browser_page, tmp_path
):
    page = browser_page
    page.get(served_tablet.url + "/harvests/new")

    fill_harvest(page, "", "DEMO-0001-P1", "0")
    page.save_screenshot(str(tmp_path / "harvest-invalid.png"))

    alert = page.find_element(By.CSS_SELECTOR, "[role=alert]").text
    farmer_error = page.find_element(By.ID, "farmer-error").text
    kg_error = page.find_element(By.ID, "kg-error").text
    rows = served_tablet.rows("SELECT count(*) FROM journal WHERE type = 'harvest'")
    assert "Nothing was saved" in alert
    assert farmer_error == "required"
    assert kg_error == "must be more than 0 kg"
    assert rows == [(0,)]
