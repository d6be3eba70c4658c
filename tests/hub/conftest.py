"""Fixtures of the hub tests: a migrated database, organisations and devices."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import sessionmaker

from hub import enrollment
from hub.db import make_engine
from hub.ingest import Ingestor
from hub.keyring import Keyring
from hub.migrate import upgrade
from hub.models import Organisation
from tests.hub.helpers import Chain


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def db_url(request, tmp_path):
    """Every database test runs on SQLite and on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hub.sqlite'}"
    return request.getfixturevalue("pg_url_fresh")


@pytest.fixture
def engine(db_url):
    engine = make_engine(db_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine):
    return sessionmaker(engine.execution_options(writer=True), expire_on_commit=False)


@pytest.fixture
def keyring():
    return Keyring.from_secret("test secret, not for production")


@pytest.fixture
def ingestor(keyring):
    return Ingestor(keyring)


@pytest.fixture
def coop(sessions):
    with sessions.begin() as session:
        org = Organisation(slug="coop-soubre", name="Coop Soubré", kind="cooperative")
        session.add(org)
    return org


@pytest.fixture
def tablet(sessions, coop):
    """An enrolled tablet of the cooperative and its signing chain."""
    chain = Chain.seeded(1)
    with sessions.begin() as session:
        enrollment.register(
            session, chain.key.public_raw, coop.id, "cooperative", "tablet", "t1"
        )
    return chain


@pytest.fixture
def gateway(sessions, coop):
    chain = Chain.seeded(2)
    with sessions.begin() as session:
        enrollment.register(
            session, chain.key.public_raw, coop.id, "cooperative", "gateway", "gw"
        )
    return chain


@pytest.fixture
def factory_org(sessions):
    with sessions.begin() as session:
        org = Organisation(
            slug="choco-abidjan", name="Choco Abidjan", kind="manufacturer"
        )
        session.add(org)
    return org


@pytest.fixture
def factory(sessions, factory_org):
    chain = Chain.seeded(3)
    with sessions.begin() as session:
        enrollment.register(
            session,
            chain.key.public_raw,
            factory_org.id,
            "manufacturer",
            "tablet",
            "f1",
        )
    return chain
