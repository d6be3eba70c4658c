import sys

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.support.servers import ServerProcess, free_port

pytestmark = pytest.mark.browser

PAGE = """<!doctype html>
<title>Fixture page</title>
<p id="greeting">waiting for script</p>
<script>
  document.getElementById("greeting").textContent = "Hello from port " + location.port;
</script>
"""


@pytest.fixture
def static_site(tmp_path, server_logs):
    (tmp_path / "index.html").write_text(PAGE)
    port = free_port()
    argv = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    server = ServerProcess(
        name="static-site",
        argv=argv,
        log_path=server_logs / f"static-site-{port}.log",
        cwd=tmp_path,
        ready_url=f"http://127.0.0.1:{port}/",
    )
    with server:
        yield f"http://127.0.0.1:{port}"


def test_chromium_renders_served_page_and_runs_its_script(browser_page, static_site):
    port = static_site.rsplit(":", 1)[1]

    browser_page.get(f"{static_site}/index.html")
    greeting = WebDriverWait(browser_page, 10).until(
        ec.text_to_be_present_in_element((By.ID, "greeting"), "Hello")
    )

    assert greeting is True
    assert browser_page.title == "Fixture page"
    text = browser_page.find_element(By.ID, "greeting").text
    assert text == f"Hello from port {port}"


def test_chromium_path_is_debian_binary(chromium):
    assert chromium.endswith("/chromium")
