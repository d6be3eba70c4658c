"""The `cocoa-edge` command: set up, run, sync and inspect an edge device."""

from __future__ import annotations

import argparse
import json
import mimetypes
import sys
from pathlib import Path

from edge import journal, logs
from edge.config import EdgeConfig, port_number
from edge.context import EdgeContext, init_device
from shared.errors import CocoaError
from shared.record import TYPES


def main(argv: list[str] | None = None) -> int:
    """Run one sub-command; print a problem's detail and exit 1 on a domain error."""
    parser = _parser()
    args = parser.parse_args(argv)
    logs.configure()
    try:
        return args.run(EdgeConfig.from_env(), args) or 0
    except CocoaError as exc:
        return _fail(f"{exc.code}: {exc.detail}")
    except OSError as exc:
        return _fail(f"cannot read {exc.filename or 'a file'}: {exc.strerror or exc}")
    except KeyboardInterrupt:
        # Imports and records commit in one transaction each: an interrupted one
        # keeps nothing, so running it again is safe.
        return _fail("interrupted; nothing unfinished was kept", 130)


def _fail(message: str, status: int = 1) -> int:
    print(f"cocoa-edge: {message}", file=sys.stderr)
    return status


def _port(text: str) -> int:
    try:
        return port_number(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a port; give a number from 1 to 65535"
        ) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cocoa-edge", description="Cocoa Trace edge device (tablet or gateway)."
    )
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    cmd = sub.add_parser("init", help="create this device's key and database")
    cmd.add_argument("--label", help="a name people recognise, e.g. 'Soubre tablet 3'")
    cmd.add_argument("--passphrase-file", type=Path, help="encrypt the key with this")
    cmd.set_defaults(run=cmd_init)

    cmd = sub.add_parser("enroll", help="enroll with a hub using a one-time token")
    cmd.add_argument("--hub", required=True, help="hub (or gateway) base URL")
    cmd.add_argument("--token", required=True)
    cmd.add_argument("--kind", choices=("tablet", "gateway"), default="tablet")
    cmd.set_defaults(run=cmd_enroll)

    cmd = sub.add_parser("serve", help="serve the pages (and a gateway's sync API)")
    cmd.add_argument("--host", help="address to bind (default 127.0.0.1)")
    cmd.add_argument("--port", type=_port)
    cmd.add_argument("--no-scheduler", action="store_true", help="no automatic sync")
    cmd.set_defaults(run=cmd_serve)

    cmd = sub.add_parser(
        "set-password", help="set the operator password pages ask on a network"
    )
    cmd.add_argument("--password-file", type=Path, help="read it from this file")
    cmd.set_defaults(run=cmd_set_password)

    cmd = sub.add_parser("sync", help="send pending records and pull reference data")
    cmd.add_argument("--upstream", help="sync with this URL instead of the hub")
    cmd.set_defaults(run=cmd_sync)

    cmd = sub.add_parser("import-farmers", help="import a farmer registry CSV")
    cmd.add_argument("path", type=Path)
    cmd.set_defaults(run=cmd_import_farmers)

    cmd = sub.add_parser("import-plots", help="import a plot map GeoJSON")
    cmd.add_argument("path", type=Path)
    cmd.set_defaults(run=cmd_import_plots)

    cmd = sub.add_parser("status", help="show records by state and the last sync")
    cmd.set_defaults(run=cmd_status)

    cmd = sub.add_parser("verify", help="re-check every signature and prev link")
    cmd.set_defaults(run=cmd_verify)

    cmd = sub.add_parser("record", help="sign one record from JSON (scripts, demos)")
    cmd.add_argument("type", choices=TYPES)
    cmd.add_argument("--json", required=True, dest="body", help="the body as JSON")
    cmd.add_argument(
        "--attach", type=Path, action="append", default=[], help="attach a file"
    )
    cmd.set_defaults(run=cmd_record)
    return parser


def _read_secret(path: Path | None) -> str | None:
    if path is None:
        return None
    return path.read_text(encoding="utf-8").strip() or None


def cmd_init(config: EdgeConfig, args) -> int:
    passphrase = _read_secret(args.passphrase_file) or config.passphrase
    key = init_device(config, passphrase, args.label)
    print(f"device {key.device_id} ready in {config.home}")
    if passphrase:
        print("the key is encrypted; set COCOA_EDGE_PASSPHRASE to use it")
    return 0


def cmd_enroll(config: EdgeConfig, args) -> int:
    from edge.enroll import enroll

    ctx = EdgeContext.open(config)
    enrollment = enroll(ctx, args.hub, args.token, args.kind)
    print(
        f"enrolled {enrollment.device_id} as {enrollment.kind} of {enrollment.org} "
        f"({enrollment.role}) with {enrollment.hub_url}"
    )
    return 0


def cmd_serve(config: EdgeConfig, args) -> int:
    from edge.app import serve

    config = config.but(
        host=args.host or config.host,
        port=args.port or config.port,
        scheduler=config.scheduler and not args.no_scheduler,
    )
    serve(config)
    return 0


def cmd_set_password(config: EdgeConfig, args) -> int:
    from edge.context import make_home
    from edge.login import MIN_LENGTH, set_password

    if args.password_file:
        password = _read_secret(args.password_file) or ""
    else:
        import getpass

        password = getpass.getpass("operator password: ")
        if password != getpass.getpass("again: "):
            return _fail("the two passwords differ; nothing was changed")
    if len(password) < MIN_LENGTH:
        return _fail(f"the password needs at least {MIN_LENGTH} characters")
    make_home(config)
    set_password(config, password)
    print(f"operator password set in {config.password_path}")
    return 0


def cmd_sync(config: EdgeConfig, args) -> int:
    from edge.sync import run_sync

    ctx = EdgeContext.open(config.but(upstream=args.upstream or config.upstream))
    report = run_sync(ctx, progress=_print_progress)
    print(report.summary())
    return 0 if report.ok else 2


def _print_progress(phase: str, done: int, total: int) -> None:
    print(f"{phase}: {done}/{total}", flush=True)


def cmd_import_farmers(config: EdgeConfig, args) -> int:
    from edge.importer import import_farmers

    ctx = EdgeContext.open(config)
    report = import_farmers(ctx, args.path.read_bytes(), progress=_print_row)
    print(report.summary())
    return 0


def cmd_import_plots(config: EdgeConfig, args) -> int:
    from edge.importer import import_plots

    ctx = EdgeContext.open(config)
    report = import_plots(ctx, args.path.read_bytes(), progress=_print_row)
    print(report.summary())
    return 0


def _print_row(row) -> None:
    code = row.code or "-"
    print(f"{row.kind} {row.number:>4}  {code:<20} {row.outcome:<9} {row.message}")


def cmd_status(config: EdgeConfig, args) -> int:
    ctx = EdgeContext.open(config)
    with ctx.transaction() as session:
        counts = journal.count_by_state(session)
        enrollment = ctx.enrollment(session)
        status = ctx.sync_status(session)
        last = journal.head(session)

    print(f"device     {ctx.key.device_id}  {ctx.label or ''}".rstrip())
    if enrollment:
        print(
            f"enrolled   {enrollment.kind} of {enrollment.org} at {enrollment.hub_url}"
        )
    else:
        print("enrolled   no")
    print(f"records    {last.seq if last else 0} in the chain")
    for state, count in counts.items():
        print(f"  {state.value:<13}{count:>7}  {journal.STATE_MEANING[state]}")
    print(
        f"sync       {status.state.value}; last success {status.last_success_at or 'never'}"
    )
    if status.last_error:
        print(f"last error {status.last_error}")
    return 0


def cmd_verify(config: EdgeConfig, args) -> int:
    ctx = EdgeContext.open(config)
    with ctx.transaction() as session:
        fault = journal.verify_chain(session, ctx.key.public_raw, ctx.key.device_id)
        last = journal.head(session)

    if fault:
        print(f"chain broken at {fault}")
        return 3

    print(f"chain good: {last.seq if last else 0} records, every signature verifies")
    return 0


def cmd_record(config: EdgeConfig, args) -> int:
    ctx = EdgeContext.open(config)
    try:
        body = json.loads(args.body)
    except ValueError as exc:
        print(f"cocoa-edge: --json is not JSON: {exc}", file=sys.stderr)
        return 1

    for path in args.attach:
        media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        entry = ctx.add_attachment(path.name, media_type, path.read_bytes())
        body.setdefault("attachments", []).append(entry)
    row = ctx.append(args.type, body)
    print(
        json.dumps({"seq": row.seq, "id": row.id, "body": json.loads(row.raw)["body"]})
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
