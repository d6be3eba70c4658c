"""What a new user broke: hub address, badges, CSRF, file modes, CLI, headers."""

from __future__ import annotations

import base64
import getpass
import os
import re
import stat
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from hub import cli, enrollment, publicview
from hub.app import create_app
from hub.blobs import LocalBlobStore
from hub.config import HubConfig, database_url
from hub.db import database
from hub.models import EnrollmentToken, Organisation
from tests.hub import test_http as http
from tests.hub.console_app import login as season_login
from tests.hub.console_app import seeded_hub
from tests.hub.helpers import Chain, coop_journey
from tests.hub.test_http import PASSWORD, enrolled, login, signed, sync, token_for

# The plain hub of the HTTP tests: three organisations and their users.
app = http.app
client = http.client


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    return seeded_hub(tmp_path_factory)


# 1. The enroll answer names the hub the device reached.


def test_enroll_answer_names_the_address_the_request_came_in_on(app, client):
    with app.app_context(), database().session() as session:
        org = session.scalar(
            select(Organisation).where(Organisation.slug == "coop-soubre")
        )
        token = enrollment.create_token(session, org, "cooperative", timedelta(hours=1))
    key = Chain.seeded(7).key.public_raw

    answer = client.post(
        "/api/v1/devices/enroll",
        base_url="http://127.0.0.1:8123",
        json={"token": token, "public_key": base64.b64encode(key).decode()},
    )

    assert answer.status_code == 201
    assert answer.json["hub_url"] == "http://127.0.0.1:8123"


def test_public_url_still_overrides_the_request_address(tmp_path):
    hub = create_app(
        {
            "home": tmp_path,
            "database_url": f"sqlite:///{tmp_path / 'hub.sqlite'}",
            "blobs": f"local:{tmp_path / 'blobs'}",
            "secret_key": "test secret",
            "public_url": "https://hub.example.org/",
            "testing": True,
        }
    )
    with hub.app_context(), database().session() as session:
        session.add(Organisation(slug="coop-soubre", name="C", kind="cooperative"))

    _, _, answer = enrolled(hub, hub.test_client())

    assert answer.json["hub_url"] == "https://hub.example.org"


def test_public_url_is_unset_unless_the_environment_sets_it():
    bare = HubConfig.from_env({"COCOA_HUB_HOME": "h"})
    proxied = HubConfig.from_env({"COCOA_HUB_PUBLIC_URL": "https://t.example"})

    assert bare.public_url is None
    assert proxied.public_url == "https://t.example"


# 2. A product claims only what every lot holds.


def test_certifications_are_those_every_lot_holds():
    lots = [
        {"certification": "Fairtrade, Rainforest Alliance"},
        {"certification": "Fairtrade"},
    ]

    both = publicview.common_certifications(lots)
    with_bare = publicview.common_certifications([*lots, {"certification": None}])

    assert both == ["Fairtrade"]
    assert with_bare == []


def test_console_product_page_claims_no_certification_of_one_lot(seeded):
    app, _ = seeded
    client = app.test_client()
    season_login(client, "admin")

    page = client.get("/products/BAR-2026-041")
    public = client.get("/t/BAR-2026-041")

    assert "No certification is held by every cacao batch used" in page.text
    assert "✓ Fairtrade" not in public.text


# 9. One event count on both pages.


def test_public_and_console_pages_count_the_same_events(seeded):
    app, _ = seeded
    client = app.test_client()
    season_login(client, "admin")

    console = client.get("/products/BAR-2026-041").text
    public = client.get("/t/BAR-2026-041").text

    done, total = re.search(r"(\d+) / (\d+)</strong>events committed", console).groups()
    sealed = re.search(r"✓ (\d+) of the (\d+) recorded events", public).groups()
    assert (done, total) == sealed


# 3. CSRF: an empty token never matches an empty session.


def test_login_without_cookie_or_token_is_refused(app, client):
    form = client.get("/login")
    fresh = app.test_client()

    answer = fresh.post("/login", data={"username": "admin", "password": PASSWORD})
    after = fresh.get("/")

    assert re.search(r'name="csrf_token" value="[^"]{20,}"', form.text)
    assert answer.status_code == 400
    assert "csrf-failed" in answer.text
    assert after.status_code == 302


def test_token_form_without_csrf_token_creates_no_token(app, client):
    form = client.get("/login").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    # Logging in clears the session; no page is rendered before the next post.
    client.post(
        "/login", data={"username": "admin", "password": PASSWORD, "csrf_token": csrf}
    )

    answer = client.post(
        "/admin/enrollment", data={"org": "coop-soubre", "role": "cooperative"}
    )

    assert answer.status_code == 400
    with app.app_context():
        count = (
            database()
            .sessions()
            .scalar(select(func.count()).select_from(EnrollmentToken))
        )
    assert count == 0


# 4. The hub's data is readable by its owner only.


def private_config(home) -> HubConfig:
    return HubConfig.from_env({"COCOA_HUB_HOME": str(home)}).with_overrides(
        {"secret_key": "s", "testing": True}
    )


def test_home_database_and_blobs_are_private_under_umask_022(tmp_path):
    home = tmp_path / "hub"
    old = os.umask(0o022)
    try:
        hub = create_app(private_config(home))
        store = LocalBlobStore(home / "blobs")
        store.put("ab" * 32, b"photo", "image/jpeg")
    finally:
        os.umask(old)

    assert hub.extensions["cocoa_config"].database_url.endswith("hub.sqlite")
    assert mode(home) == 0o700
    assert mode(home / "hub.sqlite") == 0o600
    assert mode(home / "blobs") == 0o700
    assert mode(home / "blobs" / "sha256" / "ab" / "ab") == 0o700
    assert mode(home / "blobs" / "sha256" / "ab" / "ab" / ("ab" * 32)) == 0o600


def test_an_open_home_of_this_user_is_tightened(tmp_path):
    home = tmp_path / "hub"
    home.mkdir()
    home.chmod(0o755)

    create_app(private_config(home))

    assert mode(home) == 0o700


# 5. The CLI says one line and never a traceback or a hash.


@pytest.fixture
def hub_env(tmp_path, monkeypatch):
    monkeypatch.setenv("COCOA_HUB_HOME", str(tmp_path / "hub"))
    monkeypatch.delenv("COCOA_HUB_DATABASE_URL", raising=False)
    monkeypatch.delenv("COCOA_HUB_DB_HOST", raising=False)
    assert cli.main(["db", "upgrade"]) == 0
    return tmp_path


def run(capsys, *argv) -> tuple[int, str]:
    capsys.readouterr()
    status = cli.main(list(argv))
    return status, capsys.readouterr().err


def test_missing_password_file_is_one_line(hub_env, capsys):
    status, err = run(
        capsys, "create-user", "ana", "--role", "admin", "--password-file", "/nope"
    )

    assert status == 2
    assert err.startswith("error: cannot read the password file /nope")
    assert err.count("\n") == 1


def test_existing_names_are_one_line_without_the_hash(hub_env, capsys):
    secret = hub_env / "pw"
    secret.write_text("a long enough password")
    org = ("create-org", "coop", "--name", "Coop", "--kind", "cooperative")
    user = ("create-user", "ana", "--role", "admin", "--password-file", str(secret))
    run(capsys, *org)
    run(capsys, *user)

    org_status, org_err = run(capsys, *org)
    user_status, user_err = run(capsys, *user)

    assert org_status == 2 and "organisation coop exists already" in org_err
    assert user_status == 2 and "user ana exists already" in user_err
    for err in (org_err, user_err):
        assert err.count("\n") == 1
        assert "INSERT" not in err and "$" not in err


def test_garbage_database_url_is_one_line(hub_env, capsys, monkeypatch):
    monkeypatch.setenv("COCOA_HUB_DATABASE_URL", "garbage")

    status, err = run(capsys, "create-org", "x", "--name", "X", "--kind", "retailer")

    assert status == 2
    assert err.startswith("error: COCOA_HUB_DATABASE_URL is not a database URL")
    assert err.count("\n") == 1


def test_ctrl_c_at_the_password_prompt_is_one_line(hub_env, capsys, monkeypatch):
    def interrupt(prompt):
        raise KeyboardInterrupt

    monkeypatch.setattr(getpass, "getpass", interrupt)

    status, err = run(capsys, "create-user", "ana", "--role", "admin")

    assert status == 130
    assert err == "error: interrupted\n"


# 6. A driver-less PostgreSQL URL uses the driver we ship.


@pytest.mark.parametrize(
    "given, used",
    [
        ("postgresql://u:p@h/db", "postgresql+psycopg2://u:p@h/db"),
        ("postgres://u:p@h:5433/db", "postgresql+psycopg2://u:p@h:5433/db"),
        ("postgresql+psycopg2://u@h/db", "postgresql+psycopg2://u@h/db"),
        ("sqlite:///hub.sqlite", "sqlite:///hub.sqlite"),
    ],
)
def test_postgresql_urls_name_psycopg2(given, used):
    from_env = HubConfig.from_env({"COCOA_HUB_DATABASE_URL": given})

    assert database_url(given) == used
    assert from_env.database_url == used


@pytest.mark.postgres
def test_a_plain_postgresql_url_reaches_the_server(pg_url_fresh, tmp_path):
    plain = pg_url_fresh.replace("postgresql+psycopg2://", "postgresql://")
    url = HubConfig.from_env({"COCOA_HUB_DATABASE_URL": plain}).database_url

    hub = create_app(
        {"home": tmp_path, "database_url": url, "secret_key": "s", "testing": True}
    )

    assert hub.extensions["cocoa_db"].engine.dialect.driver == "psycopg2"


# 7. Every response carries the security headers.


@pytest.mark.parametrize("path", ["/login", "/t/NO-SUCH", "/api/v1/sync/reference"])
def test_every_response_carries_the_security_headers(client, path):
    answer = client.get(path)

    csp = answer.headers["Content-Security-Policy"]
    assert "script-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Referrer-Policy"] == "same-origin"
    assert "<script" not in answer.text


# 8. Reference data lists the organisations.


def test_reference_lists_every_organisation(app, client):
    tablet, _, _ = enrolled(app, client)

    answer = signed(client, tablet, "GET", "/api/v1/sync/reference?since=0")

    assert answer.status_code == 200
    assert answer.json["organisations"] == [
        {"slug": "choco-abidjan", "name": "Choco Abidjan", "kind": "manufacturer"},
        {"slug": "coop-soubre", "name": "Coop Soubré", "kind": "cooperative"},
        {"slug": "shop-plateau", "name": "Shop", "kind": "retailer"},
    ]


# 9. Review says when there is nothing; the dashboard lists every batch sender.


def test_review_says_when_there_is_nothing_to_review(app, client):
    login(client, "admin")

    page = client.get("/review")

    assert "Nothing to review" in page.text


def test_scoped_dashboard_lists_the_sender_of_every_listed_batch(app, client):
    chain, _, _ = enrolled(app, client)
    coop_journey(chain)
    sync(client, chain)
    maker = {"Authorization": f"Bearer {token_for(app, 'maker')}"}
    receipt = client.post(
        "/api/receipt",
        headers=maker,
        json={"shipment": "SHP-1", "lots": [{"lot": "LOT-1", "mass_g": 449000}]},
    )
    login(client, "maker")

    page = client.get("/").text

    devices, batches = page.split("<h2>Devices</h2>")[1].split("<h2>Recent sync")
    senders = set(re.findall(r"<td><code>([0-9a-z-]+)</code></td><td>\d{4}", batches))
    assert receipt.status_code == 201
    assert senders
    for sender in senders:
        assert sender in devices


def test_an_unmigrated_database_says_to_upgrade(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COCOA_HUB_HOME", str(tmp_path / "hub"))
    monkeypatch.setenv("COCOA_HUB_AUTO_MIGRATE", "0")
    monkeypatch.delenv("COCOA_HUB_DATABASE_URL", raising=False)

    status, err = run(capsys, "create-org", "x", "--name", "X", "--kind", "retailer")

    assert status == 2
    assert "run 'cocoa-hub db upgrade' first" in err


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_a_logged_out_deep_link_goes_to_login_and_back(app, client):
    answer = client.get("/review", headers={"Accept": "text/html"})
    form = client.get(answer.headers["Location"])

    back = client.post(
        answer.headers["Location"],
        data={"username": "admin", "password": PASSWORD, "csrf_token": _csrf(form.text)},
    )

    assert answer.status_code == 302
    assert "/login?next=/review" in answer.headers["Location"]
    assert back.status_code == 302
    assert back.headers["Location"].endswith("/review")


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil"])
def test_login_never_sends_a_user_off_site(app, client, target):
    form = client.get("/login")

    back = client.post(
        "/login?next=" + target,
        data={"username": "admin", "password": PASSWORD, "csrf_token": _csrf(form.text)},
    )

    assert back.status_code == 302
    assert "evil" not in back.headers["Location"]


def test_a_wrong_password_answers_401(app, client):
    form = client.get("/login")

    answer = client.post(
        "/login",
        data={"username": "admin", "password": "wrong", "csrf_token": _csrf(form.text)},
    )

    assert answer.status_code == 401
    assert "wrong password" in answer.text


@pytest.mark.parametrize("hours", ["abc", "1e9", "-5", "0", "999999999"])
def test_token_lifetimes_out_of_range_are_refused(app, client, hours):
    csrf = login(client, "admin")

    answer = client.post(
        "/admin/enrollment",
        data={"org": "coop-soubre", "role": "cooperative", "ttl_hours": hours,
              "csrf_token": csrf},
        headers={"Accept": "text/html"},
    )

    assert answer.status_code == 422
    assert "New token" not in answer.text


def test_the_cli_refuses_a_token_that_would_be_born_expired(hub_env, capsys):
    run(capsys, "create-org", "coop", "--name", "Coop", "--kind", "cooperative")

    status, err = run(capsys, "enroll-token", "--org", "coop", "--role", "cooperative",
                      "--ttl", "0h")

    assert status == 2
    assert "from a minute to 30 days" in err
