"""Drive Debian's headless Chromium through its matching chromedriver (Selenium)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

from tests.support.servers import ServerUnavailable, tail

# The machine has no internet: every flag below stops a background fetch or a feature
# that would wait on one. --no-sandbox is needed because tests may run as root.
CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
)
PAGE_LOAD_TIMEOUT_S = 30


def find_chromium() -> tuple[str, str]:
    """Return the paths of Debian's chromium and chromedriver, or raise."""
    browser = shutil.which("chromium")
    driver = shutil.which("chromedriver")
    if not browser or not driver:
        raise ServerUnavailable(
            "chromium and chromedriver must be on PATH (run scripts/setup.sh); "
            f"found chromium={browser} chromedriver={driver}"
        )

    return browser, driver


def start_browser(log_path: Path) -> webdriver.Chrome:
    """Start a fresh headless Chromium; its chromedriver log goes to log_path."""
    browser, driver = find_chromium()
    options = Options()
    options.binary_location = browser
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    service = Service(executable_path=driver, log_output=str(log_path))
    # Both paths are given, so Selenium Manager has nothing to look up or download.
    os.environ.setdefault("SE_AVOID_STATS", "true")
    try:
        page = webdriver.Chrome(options=options, service=service)
    except WebDriverException as exc:
        raise ServerUnavailable(
            f"chromium did not start: {exc.msg}; log {log_path}:\n{tail(log_path)}"
        ) from exc

    page.set_page_load_timeout(PAGE_LOAD_TIMEOUT_S)
    return page
