import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
import requests
from sqlalchemy import select

from edge.config import EdgeConfig
from edge.context import EdgeContext, init_device
from edge.models import Farmer

pytestmark = pytest.mark.slow
KILL_AFTER = 40


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(home, port) -> subprocess.Popen:
    env = dict(os.environ, COCOA_EDGE_HOME=str(home))
    command = [
        sys.executable,
        "-m",
        "edge.cli",
        "serve",
        "--port",
        str(port),
        "--no-scheduler",
    ]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    process.stdout.readline()  # "serving on ..." once the socket listens
    return process


def post_farmers_until_stopped(url, stop, saved):
    with requests.Session() as http:
        _post_loop(http, url, stop, saved)


def _post_loop(http, url, stop, saved):
    page = http.get(f"{url}/farmers/new", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    n = 0
    while not stop.is_set():
        n += 1
        form = {"csrf_token": token, "id": f"K-{n}", "name": f"Farmer {n}"}
        try:
            response = http.post(
                f"{url}/farmers/new", data=form, allow_redirects=False, timeout=10
            )
        except requests.RequestException:
            return
        if response.status_code == 302:
            saved.append(form["id"])


def test_every_reported_save_survives_kill_9(tmp_path):
    home = tmp_path / "edge"
    init_device(EdgeConfig(home=home), None, "crash test")
    port = free_port()
    server = start_server(home, port)
    stop, saved = threading.Event(), []
    poster = threading.Thread(
        target=post_farmers_until_stopped,
        args=(f"http://127.0.0.1:{port}", stop, saved),
    )
    poster.start()
    while len(saved) < KILL_AFTER and poster.is_alive():
        time.sleep(0.01)

    os.kill(server.pid, signal.SIGKILL)
    server.wait()
    server.stdout.close()
    stop.set()
    poster.join()
    restarted = start_server(home, port)
    home_page = requests.get(f"http://127.0.0.1:{port}/", timeout=10)
    restarted.terminate()
    restarted.wait()
    restarted.stdout.close()
    verify = subprocess.run(
        [sys.executable, "-m", "edge.cli", "verify"],
        env=dict(os.environ, COCOA_EDGE_HOME=str(home)),
        capture_output=True,
        text=True,
        check=False,
    )

    ctx = EdgeContext.open(EdgeConfig(home=home))
    with ctx.transaction() as session:
        present = set(session.scalars(select(Farmer.id)))
    ctx.engine.dispose()
    assert home_page.status_code == 200
    assert len(saved) >= KILL_AFTER
    assert set(saved) <= present
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "chain good" in verify.stdout
