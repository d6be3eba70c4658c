import pytest
import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from tests.support.postgres import fresh_database

pytestmark = pytest.mark.postgres


class Base(DeclarativeBase):
    pass


class Bean(Base):
    __tablename__ = "bean"

    id: Mapped[int] = mapped_column(primary_key=True)
    lot: Mapped[str]
    mass_g: Mapped[int]


def test_rows_round_trip_through_postgres(pg_engine):
    Base.metadata.create_all(pg_engine)

    with Session(pg_engine) as session:
        session.add_all([Bean(lot="L-1", mass_g=1200), Bean(lot="L-2", mass_g=800)])
        session.commit()
    with Session(pg_engine) as session:
        rows = session.execute(
            sa.select(Bean.lot, Bean.mass_g).order_by(Bean.lot)
        ).all()

    assert rows == [("L-1", 1200), ("L-2", 800)]
    assert pg_engine.dialect.name == "postgresql"


def test_each_test_gets_an_empty_database(pg_engine, pg_url_fresh):
    with pg_engine.connect() as conn:
        tables = sa.inspect(conn).get_table_names()
        name = conn.execute(sa.text("select current_database()")).scalar_one()

    assert tables == []
    assert name.startswith("test_")
    assert pg_url_fresh.endswith("/" + name)


def test_fresh_databases_are_dropped_after_use(postgres_url):
    engine = sa.create_engine(postgres_url)

    with fresh_database(postgres_url) as url:
        name = url.database
    with engine.connect() as conn:
        query = sa.text("select count(*) from pg_database where datname = :n")
        left = conn.execute(query, {"n": name}).scalar_one()
    engine.dispose()

    assert name.startswith("test_")
    assert left == 0


def test_url_is_loopback_psycopg2_with_password(postgres_url):
    url = sa.make_url(postgres_url)

    assert url.drivername == "postgresql+psycopg2"
    assert url.host == "127.0.0.1"
    assert url.password
