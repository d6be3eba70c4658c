"""A hub with the test season synced, for console and scoping tests; helpers to log in."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from hub import auth, enrollment
from hub.app import create_app
from hub.db import database
from hub.device_auth import authorization
from hub.models import Organisation
from shared.wire import MEDIA_TYPE, Segment, encode_batch
from tests.hub.season import COOPS, MAKER, Season, Signer, season

PASSWORD = "correct horse battery"


def seeded_hub(tmp_path_factory):
    """A hub with the test season synced by two cooperative tablets and a factory."""
    home = tmp_path_factory.mktemp("console")
    app = create_app(
        {
            "home": home,
            "database_url": f"sqlite:///{home / 'hub.sqlite'}",
            "blobs": f"local:{home / 'blobs'}",
            "secret_key": "test secret",
            "public_url": "https://trace.example.org",
            "testing": True,
        }
    )
    data = season()
    _register(app, data)
    client = app.test_client()
    for signer in [*data.tablets.values(), data.factory]:
        answer = sync(client, signer)
        assert answer.status_code == 200, answer.text
    return app, data


def _register(app, data: Season) -> None:
    with app.app_context(), database().session() as session:
        orgs = {}
        for slug, (name, place, *_) in COOPS.items():
            orgs[slug] = Organisation(
                slug=slug, name=name, kind="cooperative", location=place
            )
        orgs[MAKER] = Organisation(
            slug=MAKER, name="Choco Abidjan", kind="manufacturer"
        )
        session.add_all(orgs.values())
        session.flush()
        for slug, tablet in data.tablets.items():
            enrollment.register(
                session,
                tablet.key.public_raw,
                orgs[slug].id,
                "cooperative",
                "tablet",
                slug,
            )
        enrollment.register(
            session,
            data.factory.key.public_raw,
            orgs[MAKER].id,
            "manufacturer",
            "tablet",
            "f",
        )
        auth.create_user(session, "admin", PASSWORD, "admin", None)
        auth.create_user(session, "auditor", PASSWORD, "auditor", None)


def sync(client, signer: Signer, first: int = 1):
    seg = Segment(signer.device, first, signer.records[first - 1 :])
    body = encode_batch([seg], level=1)
    path = "/api/v1/sync/batches"
    header = authorization(signer.key, "POST", path, body)
    return client.post(
        path,
        data=body,
        headers={"Authorization": header, "Content-Type": MEDIA_TYPE},
    )


def login(client, username: str) -> str:
    page = client.get("/login")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": csrf}
    )
    page = client.get("/")
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


class Tags(HTMLParser):
    """Every start tag with its attributes, and the text inside <title> elements."""

    def __init__(self, text: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.titles: list[str] = []
        self._in_title = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_title = tag == "title"

    def handle_endtag(self, tag):
        self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.titles.append(data)

    def find(self, tag: str, **attrs) -> list[dict]:
        return [
            a
            for t, a in self.tags
            if t == tag and all(a.get(k) == v for k, v in attrs.items())
        ]
