import sys

import pytest

from tests.support.servers import (
    ServerProcess,
    ServerUnavailable,
    free_port,
    unavailable,
    wait_for_http,
)


def test_server_process_starts_serves_and_stops(tmp_path):
    port = free_port()
    server = ServerProcess(
        name="http",
        argv=[sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        log_path=tmp_path / "http.log",
        cwd=tmp_path,
        ready_url=f"http://127.0.0.1:{port}/",
    )

    server.start()
    wait_for_http(f"http://127.0.0.1:{port}/", timeout=5)
    was_running = server.running
    server.stop()

    assert was_running
    assert not server.running
    assert "GET / HTTP" in (tmp_path / "http.log").read_text()


def test_server_that_exits_reports_its_log_tail(tmp_path):
    script = "import sys; print('config missing: HUB_DB'); sys.exit(3)"
    server = ServerProcess(
        name="broken",
        argv=[sys.executable, "-c", script],
        log_path=tmp_path / "broken.log",
        ready_url=f"http://127.0.0.1:{free_port()}/",
    )

    with pytest.raises(ServerUnavailable) as caught:
        server.start(timeout=10)

    assert "broken exited with 3" in str(caught.value)
    assert "config missing: HUB_DB" in str(caught.value)


def test_wait_for_http_gives_up_on_a_closed_port():
    url = f"http://127.0.0.1:{free_port()}/"

    with pytest.raises(ServerUnavailable) as caught:
        wait_for_http(url, timeout=0.5)

    assert url in str(caught.value)


def test_missing_server_fails_under_ci(monkeypatch):
    monkeypatch.setenv("CI", "true")

    with pytest.raises(pytest.fail.Exception) as caught:
        unavailable("S3 unavailable: weed not built")

    assert "weed not built" in str(caught.value)


def test_missing_server_skips_outside_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)

    with pytest.raises(pytest.skip.Exception):
        unavailable("S3 unavailable: weed not built")


def test_run_server_fixture_starts_a_ready_process(run_server, server_logs, tmp_path):
    port = free_port()
    argv = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    server = ServerProcess(
        name="hub-stand-in",
        argv=argv,
        log_path=server_logs / f"hub-stand-in-{port}.log",
        cwd=tmp_path,
        ready_url=f"http://127.0.0.1:{port}/",
    )

    started = run_server(server)

    assert started is server
    assert server.running
