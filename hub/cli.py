"""`cocoa-hub`: run, migrate and administer a hub."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import ArgumentError, IntegrityError, OperationalError

from hub.config import HubConfig
from hub.db import Database
from hub.keyring import Keyring, master_secret
from hub.private import private_dir
from shared.errors import CocoaError


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        config = HubConfig.from_env()
        private_dir(config.home)
        return args.run(args, config) or 0
    except CocoaError as exc:
        return _fail(f"{exc.detail} ({exc.code})")
    except ArgumentError:
        # The message would repeat the URL, and with it a password.
        return _fail(
            "COCOA_HUB_DATABASE_URL is not a database URL; use sqlite:///<file> or "
            "postgresql://user:password@host:port/name"
        )
    except OperationalError as exc:
        # Wrong URL, server down, bad credentials: say which database, not a traceback.
        where = config.database_url.rsplit("@", 1)[-1]
        hint = ""
        if "no such table" in str(exc.orig) or "does not exist" in str(exc.orig):
            hint = "; run 'cocoa-hub db upgrade' first"
        return _fail(f"cannot use the database {where}: {exc.orig}{hint}")
    except IntegrityError:
        # The statement and its parameters stay unprinted: they may hold a hash.
        return _fail("the database refused the change: it conflicts with a stored row")
    except KeyboardInterrupt:
        return _fail("interrupted", status=130)


def _fail(message: str, status: int = 2) -> int:
    print(f"error: {message}", file=sys.stderr)
    return status


def _database(config: HubConfig) -> Database:
    return Database(config.database_url)


def _keyring(config: HubConfig) -> Keyring:
    return Keyring.from_secret(master_secret(config.secret_key, config.home))


def cmd_db_upgrade(args, config: HubConfig) -> None:
    from hub.migrate import upgrade

    upgrade(_database(config).engine, args.revision)
    print(f"database at revision {args.revision}")


def cmd_serve(args, config: HubConfig) -> None:
    from hub.app import create_app

    if args.workers > 1:
        return _gunicorn(args)

    create_app().run(host=args.host, port=args.port, threaded=True)


def _gunicorn(args) -> None:
    from gunicorn.app.base import BaseApplication

    class HubServer(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{args.host}:{args.port}")
            self.cfg.set("workers", args.workers)
            self.cfg.set("timeout", 300)  # weak links send batches slowly

        def load(self):
            from hub.app import create_app

            return create_app()

    HubServer().run()


def cmd_create_org(args, config: HubConfig) -> None:
    from hub.models import Organisation

    with _database(config).session() as session:
        if session.scalar(select(Organisation).where(Organisation.slug == args.slug)):
            raise CocoaError(f"organisation {args.slug} exists already")
        session.add(
            Organisation(
                slug=args.slug,
                name=args.name,
                kind=args.kind,
                location=args.location,
                contact_person=args.contact,
            )
        )
    print(f"organisation {args.slug} created")


def cmd_create_user(args, config: HubConfig) -> None:
    from hub.auth import create_user
    from hub.models import User

    password = _password(args.password_file)
    with _database(config).session() as session:
        if session.scalar(select(User).where(User.username == args.username)):
            raise CocoaError(f"user {args.username} exists already")
        create_user(
            session, args.username, password, args.role, _org(session, args.org)
        )
    print(f"user {args.username} created")


def _password(path: str | None) -> str:
    if not path:
        return getpass.getpass("password: ")

    try:
        return Path(path).read_text().strip()
    except OSError as exc:
        raise CocoaError(f"cannot read the password file {path}: {exc.strerror}")


def cmd_api_token(args, config: HubConfig) -> None:
    from hub.auth import create_api_token
    from hub.models import User

    with _database(config).session() as session:
        user = session.scalar(select(User).where(User.username == args.username))
        if user is None:
            raise CocoaError(f"no user {args.username}")
        print(create_api_token(session, user, args.label))


def cmd_enroll_token(args, config: HubConfig) -> None:
    from hub.enrollment import create_token

    with _database(config).session() as session:
        token = create_token(
            session, _org(session, args.org), args.role, _duration(args.ttl), "cli"
        )
    print(token)


def cmd_revoke_device(args, config: HubConfig) -> None:
    from hub.enrollment import revoke

    with _database(config).session() as session:
        revoke(session, args.device, args.reason)
    print(f"device {args.device} revoked")


def cmd_ledger_commit(args, config: HubConfig) -> None:
    from hub.pipeline import run_until_done

    done = run_until_done(_database(config), _keyring(config))
    print(f"{done} records committed")


def cmd_ledger_verify(args, config: HubConfig) -> int:
    from hub.ledger.embedded import EmbeddedLedger, verify_chain

    with _database(config).session() as session:
        faults = verify_chain(session)
        head = EmbeddedLedger(session).head()
    for fault in faults:
        print(fault)
    if faults:
        return 1
    print(
        json.dumps(
            {
                "blocks": head.number + 1 if head else 0,
                "head": head.header_hash if head else None,
            }
        )
    )
    return 0


def cmd_ledger_proof(args, config: HubConfig) -> None:
    from hub.ledger.embedded import EmbeddedLedger

    with _database(config).session() as session:
        print(
            json.dumps(EmbeddedLedger(session).proof(args.record).to_json(), indent=1)
        )


def cmd_rebuild_projections(args, config: HubConfig) -> None:
    from hub.pipeline import run_until_done
    from hub.projections import rebuild

    with _database(config).session() as session:
        rebuild(session)
    run_until_done(_database(config), _keyring(config))
    print("projections rebuilt")


def _org(session, slug: str | None):
    from hub.models import Organisation

    if slug is None:
        return None
    org = session.scalar(select(Organisation).where(Organisation.slug == slug))
    if org is None:
        raise CocoaError(f"no organisation {slug}; create it with create-org")
    return org


def _duration(text: str) -> timedelta:
    units = {"m": "minutes", "h": "hours", "d": "days"}
    if not text[:-1].isdigit() or text[-1] not in units:
        raise CocoaError(f"--ttl takes a number and m, h or d, like 24h; got {text!r}")
    return timedelta(**{units[text[-1]]: int(text[:-1])})


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cocoa-hub", description=__doc__)
    sub = parser.add_subparsers(required=True, metavar="command")

    db = sub.add_parser("db", help="database schema").add_subparsers(required=True)
    up = db.add_parser("upgrade", help="apply the Alembic migrations")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(run=cmd_db_upgrade)

    serve = sub.add_parser("serve", help="run the hub web service")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--workers", type=int, default=1, help="processes (gunicorn) when > 1"
    )
    serve.set_defaults(run=cmd_serve)

    org = sub.add_parser("create-org", help="add an organisation")
    org.add_argument("slug")
    org.add_argument("--name", required=True)
    org.add_argument(
        "--kind",
        required=True,
        choices=(
            "cooperative",
            "manufacturer",
            "distributor",
            "retailer",
            "auditor",
            "operator",
        ),
    )
    org.add_argument("--location")
    org.add_argument("--contact")
    org.set_defaults(run=cmd_create_org)

    user = sub.add_parser("create-user", help="add a console/API user")
    user.add_argument("username")
    user.add_argument("--role", required=True)
    user.add_argument("--org")
    user.add_argument(
        "--password-file", help="read the password from this file, else prompt"
    )
    user.set_defaults(run=cmd_create_user)

    token = sub.add_parser("api-token", help="issue a bearer token for a user")
    token.add_argument("username")
    token.add_argument("--label", default="cli")
    token.set_defaults(run=cmd_api_token)

    enroll = sub.add_parser("enroll-token", help="one-time device enrollment token")
    enroll.add_argument("--org", required=True)
    enroll.add_argument("--role", required=True)
    enroll.add_argument("--ttl", default="24h")
    enroll.set_defaults(run=cmd_enroll_token)

    revoke = sub.add_parser("revoke-device", help="refuse a device from now on")
    revoke.add_argument("device")
    revoke.add_argument("--reason", default="revoked by an operator")
    revoke.set_defaults(run=cmd_revoke_device)

    ledger = sub.add_parser("ledger", help="embedded ledger").add_subparsers(
        required=True
    )
    ledger.add_parser("commit", help="commit pending records now").set_defaults(
        run=cmd_ledger_commit
    )
    ledger.add_parser("verify", help="check every block and entry").set_defaults(
        run=cmd_ledger_verify
    )
    proof = ledger.add_parser("proof", help="print the proof of one record")
    proof.add_argument("record")
    proof.set_defaults(run=cmd_ledger_proof)

    rebuild = sub.add_parser("rebuild-projections", help="derive business tables again")
    rebuild.set_defaults(run=cmd_rebuild_projections)
    return parser


if __name__ == "__main__":
    sys.exit(main())
