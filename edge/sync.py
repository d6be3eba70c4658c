"""The sync client: push pending records in CTB1 batches, pull reference data down.

One run: pull reference data (to learn keys and choices), upload attachments
(HEAD then PUT), ask a gateway what the hub said of the records it holds for this
device, then send batches and apply each answer. Every network phase has
connect and read timeouts and each batch an overall deadline. A run holds a file
lock in the device home, so the CLI and the server never sync at the same time.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import requests
from sqlalchemy import func, select

from edge.context import EdgeContext
from edge.errors import SyncBusy
from edge.models import (
    Attachment,
    Enrollment,
    Farmer,
    JournalRecord,
    Lot,
    Organisation,
    PeerDevice,
    Plot,
    Receipt,
    RecordState,
    RelayRecord,
    SyncState,
    utcnow,
)
from edge.projections import next_rev
from shared import reqsign
from shared.errors import CocoaError
from shared.keys import verify
from shared.record import SignedRecord
from shared.wire import MEDIA_TYPE, Segment, encode_batch

log = logging.getLogger(__name__)

BATCHES_PATH = "/api/v1/sync/batches"
REFERENCE_PATH = "/api/v1/sync/reference"
ATTACHMENTS_PATH = "/api/v1/sync/attachments/"
CUSTODY_PATH = "/api/v1/sync/custody"
OUTSTANDING = (RecordState.PENDING, RecordState.SENT)
# Not yet settled by the hub: the hub's signed word may still move these.
UNSETTLED = (*OUTSTANDING, RecordState.RELAYED)
CHUNK = 16 * 1024

Progress = Callable[[str, int, int], None] | None


class SyncError(CocoaError):
    """A sync run stopped; `state` says how the device should react."""

    status = 502
    code = "sync-failed"
    title = "Sync failed"
    state = SyncState.FAILED


class SyncInterrupted(SyncError):
    code = "sync-interrupted"
    title = "The link dropped or a deadline passed; the sync will be retried"
    state = SyncState.INTERRUPTED


class SyncAuthNeeded(SyncError):
    code = "sync-auth-needed"
    title = "The upstream does not accept this device; enroll it again"
    state = SyncState.AUTH_NEEDED


class ReceiptInvalid(SyncError):
    code = "receipt-invalid"
    title = "The upstream's receipt does not verify; nothing was marked delivered"


@dataclass
class SyncReport:
    """What one run did."""

    state: SyncState = SyncState.SUCCEEDED
    batches: int = 0
    sent: int = 0
    relayed: int = 0
    acknowledged: int = 0
    quarantined: int = 0
    rejected: int = 0
    attachments: int = 0
    reference: int = 0
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.state == SyncState.SUCCEEDED

    def summary(self) -> str:
        text = (
            f"sync {self.state.value}: {self.sent} records sent in {self.batches} "
            f"batches, {self.relayed} relayed, {self.acknowledged} acknowledged, "
            f"{self.quarantined} "
            f"quarantined, {self.rejected} rejected; {self.attachments} attachments "
            f"uploaded; {self.reference} reference rows merged"
        )
        return f"{text}; error: {self.error}" if self.error else text


@dataclass(frozen=True)
class Item:
    """One outstanding record, own or relayed, in the order it must travel."""

    device: str
    seq: int
    record: SignedRecord

    @property
    def size(self) -> int:
        return len(self.record.raw) + len(self.record.signature)


def plan_batches(
    items: list[Item], max_records: int, max_bytes: int
) -> list[list[Segment]]:
    """Cut outstanding records into batches of consecutive per-device segments."""
    batches: list[list[Segment]] = []
    current: list[Segment] = []
    count = size = 0
    for item in sorted(items, key=lambda i: (i.device, i.seq)):
        full = count >= max_records or (count and size + item.size > max_bytes)
        if full:
            batches.append(current)
            current, count, size = [], 0, 0
        last = current[-1] if current else None
        if last and last.device == item.device and _next_seq(last) == item.seq:
            last.records.append(item.record)
        else:
            current.append(Segment(item.device, item.seq, [item.record]))
        count += 1
        size += item.size
    if current:
        batches.append(current)
    return batches


def _next_seq(segment: Segment) -> int:
    return segment.first_seq + len(segment.records)


class Upstream:
    """Signed HTTP to the hub or a gateway, with a timeout on every phase."""

    def __init__(self, ctx: EdgeContext, base_url: str, http: requests.Session):
        self.ctx = ctx
        self.base = base_url.rstrip("/")
        self.http = http

    def call(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        headers: dict | None = None,
        deadline_s: float | None = None,
    ) -> requests.Response:
        """Send one signed request; raise a SyncError the device can react to."""
        config = self.ctx.config
        url = self.base + path
        split = urlsplit(url)
        signed_path = split.path + (f"?{split.query}" if split.query else "")
        headers = dict(headers or {})
        headers["Authorization"] = reqsign.authorization(
            self.ctx.key, method, signed_path, body
        )
        # The overall deadline is checked while the answer streams in; sending the
        # body (at most one batch, 64 KiB by default) is bounded only by the
        # socket timeouts, so a link that trickles the upload can outlast it.
        deadline = time.monotonic() + (deadline_s or config.batch_deadline_s)
        try:
            response = self.http.request(
                method,
                url,
                data=body or None,
                headers=headers,
                timeout=(config.connect_timeout_s, config.read_timeout_s),
                stream=True,
            )
            response._content = _read_before(response, deadline)
        except requests.Timeout:
            where = _origin(url)
            raise SyncInterrupted(f"{method} {path}: {where} timed out") from None
        except requests.ConnectionError as exc:
            where = f"{_origin(url)} ({_root_cause(exc)})"
            raise SyncInterrupted(
                f"{method} {path}: cannot connect to {where}"
            ) from None
        except requests.RequestException as exc:
            raise SyncError(f"{method} {path}: {exc}") from None
        _raise_for_problem(method, path, response)
        return response


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _root_cause(exc: BaseException) -> str:
    """The innermost reason, e.g. 'Connection refused', not urllib3's whole chain."""
    while exc.__cause__ or exc.__context__:
        exc = exc.__cause__ or exc.__context__
    text = str(exc)
    # urllib3 wraps the OS error as "...: [Errno 111] Connection refused".
    return text.rsplit("] ", 1)[-1] if "] " in text else text or type(exc).__name__


def _read_before(response: requests.Response, deadline: float) -> bytes:
    """Read the body in chunks, giving up when the overall deadline passes."""
    chunks = []
    for chunk in response.iter_content(CHUNK):
        chunks.append(chunk)
        if time.monotonic() > deadline:
            response.close()
            raise SyncInterrupted("the answer was still arriving at the deadline")
    return b"".join(chunks)


def _raise_for_problem(method: str, path: str, response: requests.Response) -> None:
    status = response.status_code
    # A HEAD's 404 means "not there yet"; the hub has no custody endpoint (only
    # a gateway keeps records for others), and its 404 says it is the hub.
    if status < 400 or (status == 404 and (method == "HEAD" or path == CUSTODY_PATH)):
        return

    try:
        problem = response.json()
        detail = f"{problem.get('code', status)}: {problem.get('detail', '')}"
    except ValueError:
        detail = f"HTTP {status}"
    message = f"{method} {path} answered {status} {detail}"
    if status in (401, 403):
        raise SyncAuthNeeded(message)
    if status >= 500 or status == 429:
        raise SyncInterrupted(message)
    raise SyncError(message)


_running = threading.Lock()


def start_background(ctx: EdgeContext) -> bool:
    """Start a sync on a thread unless one runs in this process; True if started."""
    if not _running.acquire(blocking=False):
        return False

    def work():
        try:
            run_sync(ctx)
        except CocoaError as exc:
            log.warning("sync.not-run", extra={"code": exc.code, "detail": exc.detail})
        except Exception:
            log.exception("sync.crashed")
        finally:
            _running.release()

    threading.Thread(target=work, name="cocoa-sync", daemon=True).start()
    return True


def run_sync(
    ctx: EdgeContext, progress: Progress = None, http: requests.Session | None = None
) -> SyncReport:
    """One full sync run; records its outcome in the sync status row."""
    with _sync_lock(ctx):
        with ctx.transaction() as session:
            enrollment = ctx.require_enrollment(session)
            status = ctx.sync_status(session)
            status.state, status.phase = SyncState.SYNCING, None
            status.done = status.total = 0
            status.last_attempt_at = utcnow()
            session.expunge(enrollment)

        report = SyncReport()
        run = _Run(ctx, enrollment, http or requests.Session(), report, progress)
        try:
            run.all()
        except SyncError as exc:
            report.state, report.error = exc.state, exc.detail
            log.warning(
                "sync.failed",
                extra={
                    "device_id": ctx.key.device_id,
                    "state": exc.state.value,
                    "detail": exc.detail,
                },
            )
        _finish(ctx, report)
        return report


@contextmanager
def _sync_lock(ctx: EdgeContext) -> Iterator[None]:
    ctx.config.home.mkdir(parents=True, exist_ok=True)
    with open(ctx.config.sync_lock_path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SyncBusy("another sync of this device is running") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _finish(ctx: EdgeContext, report: SyncReport) -> None:
    with ctx.transaction() as session:
        status = ctx.sync_status(session)
        status.state, status.phase = report.state, None
        if report.ok:
            status.last_success_at = utcnow()
            status.last_error = None
            status.attempt = 0
            status.next_retry_at = None
        else:
            status.last_error = (report.error or "")[:500]
            status.attempt += 1
    log.info(
        "sync.finished",
        extra={
            "device_id": ctx.key.device_id,
            "state": report.state.value,
            "sent": report.sent,
            "relayed": report.relayed,
            "acknowledged": report.acknowledged,
            "rejected": report.rejected,
        },
    )


class _Run:
    """The phases of one sync run."""

    def __init__(self, ctx, enrollment: Enrollment, http, report: SyncReport, progress):
        self.ctx = ctx
        self.enrollment = enrollment
        self.report = report
        self.progress = progress
        base = ctx.config.upstream or enrollment.hub_url
        self.upstream = Upstream(ctx, base, http)
        self.resend_relayed = False

    def all(self) -> None:
        self.pull_reference()
        self.upload_attachments()
        self.settle_custody()
        self.push_records()

    def step(self, phase: str, done: int, total: int) -> None:
        with self.ctx.transaction() as session:
            status = self.ctx.sync_status(session)
            status.phase, status.done, status.total = phase, done, total
        if self.progress:
            self.progress(phase, done, total)

    def pull_reference(self) -> None:
        with self.ctx.transaction() as session:
            cursor = self.ctx.sync_status(session).reference_cursor
        path = REFERENCE_PATH + (f"?since={quote(cursor, safe='')}" if cursor else "")
        answer = self.upstream.call("GET", path).json()
        with self.ctx.transaction() as session:
            self.report.reference = merge_reference(
                session, answer, self.ctx.key.device_id
            )
            self.ctx.sync_status(session).reference_cursor = (
                answer.get("cursor") or cursor
            )
        self.step("reference", self.report.reference, self.report.reference)

    def upload_attachments(self) -> None:
        with self.ctx.transaction() as session:
            waiting = session.scalars(
                select(Attachment).where(Attachment.uploaded_at.is_(None))
            ).all()
        for done, attachment in enumerate(waiting, start=1):
            self.upload(attachment)
            self.step("attachments", done, len(waiting))

    def upload(self, attachment: Attachment) -> None:
        path = ATTACHMENTS_PATH + attachment.sha256
        if self.upstream.call("HEAD", path).status_code != 200:
            data = (self.ctx.config.attachments_dir / attachment.sha256).read_bytes()
            headers = {"Content-Type": attachment.media_type}
            self.upstream.call("PUT", path, data, headers)
        with self.ctx.transaction() as session:
            session.get(Attachment, attachment.sha256).uploaded_at = utcnow()
        self.report.attachments += 1

    def settle_custody(self) -> None:
        """Learn what the hub said of this device's records a gateway holds."""
        with self.ctx.transaction() as session:
            relayed = session.scalar(
                select(func.count())
                .select_from(JournalRecord)
                .where(JournalRecord.state == RecordState.RELAYED)
            )
        if not relayed:
            return

        response = self.upstream.call("GET", CUSTODY_PATH)
        if response.status_code == 404:
            # The upstream is the hub (or a gateway older than custody): send the
            # relayed records again; the hub answers duplicate for those it has.
            # Before the pending ones, or the hub would see a gap in the chain.
            self.resend_relayed = True
            return

        answer = _json(response)
        with self.ctx.transaction() as session:
            self.apply_hub_word(session, answer.get("hub"))

    def push_records(self) -> None:
        with self.ctx.transaction() as session:
            items = outstanding(
                session, self.ctx.key.device_id, with_relayed=self.resend_relayed
            )
        config = self.ctx.config
        batches = plan_batches(items, config.batch_records, config.batch_bytes)
        total = len(items)
        self.step("records", 0, total)
        for segments in batches:
            self.send(segments)
            self.step("records", self.report.sent, total)

    def send(self, segments: list[Segment]) -> None:
        frame = encode_batch(segments)
        with self.ctx.transaction() as session:
            for segment in segments:
                for offset, _record in enumerate(segment.records):
                    row = _row(
                        session,
                        self.ctx.key.device_id,
                        segment.device,
                        segment.first_seq + offset,
                    )
                    if row.state == RecordState.PENDING:
                        row.state = RecordState.SENT

        response = self.upstream.call(
            "POST", BATCHES_PATH, frame, {"Content-Type": MEDIA_TYPE}
        )
        answer = _json(response)
        receipt = self.check_receipt(answer, frame)
        with self.ctx.transaction() as session:
            session.merge(receipt)
            self.apply(session, answer, segments, receipt)
            self.apply_hub_word(session, answer.get("hub"))
        self.report.batches += 1
        self.report.sent += sum(len(s.records) for s in segments)

    def check_receipt(self, answer: dict, frame: bytes) -> Receipt:
        """Verify the receipt against the hub key or a gateway of our organisation."""
        try:
            payload = base64.b64decode(answer["receipt"]["payload"])
            signature = base64.b64decode(answer["receipt"]["signature"])
            doc = json.loads(payload)
        except (KeyError, TypeError, ValueError) as exc:
            raise ReceiptInvalid(
                f"the answer carries no readable receipt: {exc}"
            ) from None

        signer = self.signer_of(payload, signature)
        frame_sha = hashlib.sha256(frame).hexdigest()
        if doc.get("frame_sha256") != frame_sha:
            raise ReceiptInvalid("the receipt is for another frame than the one sent")
        if doc.get("high_water") != answer.get("high_water"):
            raise ReceiptInvalid("the receipt's high water differs from the answer's")
        return Receipt(
            batch=str(doc.get("batch") or answer.get("batch")),
            payload=payload,
            signature=signature,
            signer=signer,
            frame_sha256=frame_sha,
        )

    def signer_of(self, payload: bytes, signature: bytes) -> str:
        if verify(self.enrollment.hub_key, signature, payload):
            return "hub"
        with self.ctx.transaction() as session:
            gateways = session.scalars(
                select(PeerDevice).where(
                    PeerDevice.kind == "gateway", PeerDevice.revoked.is_(False)
                )
            ).all()
        for gateway in gateways:
            if verify(gateway.public_key, signature, payload):
                return gateway.id
        raise ReceiptInvalid(
            "the receipt is not signed by the hub nor by a gateway of this organisation"
        )

    def apply(
        self, session, answer: dict, segments: list[Segment], receipt: Receipt
    ) -> None:
        sent = {
            (s.device, s.first_seq + i): r.id
            for s in segments
            for i, r in enumerate(s.records)
        }
        for result in answer.get("results", []):
            key = (result.get("device"), result.get("seq"))
            if key not in sent or result.get("id") not in (None, sent[key]):
                log.warning(
                    "sync.result-unmatched", extra={"device_id": key[0], "seq": key[1]}
                )
                continue
            row = _row(session, self.ctx.key.device_id, *key)
            self.apply_result(row, result, receipt)

        for device, mark in (answer.get("high_water") or {}).items():
            self.apply_high_water(session, device, mark, receipt)

    def apply_result(self, row, result: dict, receipt: Receipt) -> None:
        status = result.get("status")
        from_hub = receipt.signer == "hub"
        if from_hub and isinstance(row, RelayRecord):
            row.upstream_batch = receipt.batch
        if status in ("accepted", "duplicate"):
            self.settle(row, _arrived(from_hub))
        elif status == "rejected" or (status == "quarantined" and from_hub):
            self.settle(row, RecordState(status), result)
        elif status == "quarantined":
            # A gateway holds a record that fails its schema and forwards it all
            # the same; only the hub's verdict is final.
            self.settle(row, RecordState.RELAYED, result)

    def settle(self, row, state: RecordState, result: dict | None = None) -> None:
        """Move a record to `state`, never back from the hub's word to custody."""
        if row.state not in UNSETTLED or row.state == state:
            return

        row.state = state
        if result is not None:
            row.state_code = str(result.get("code") or result.get("status"))[:40]
            row.state_detail = str(result.get("detail") or "")[:500]
        counter = state.value
        setattr(self.report, counter, getattr(self.report, counter) + 1)

    def apply_high_water(
        self, session, device: str, mark: dict, receipt: Receipt | None = None
    ) -> None:
        """Everything at or below the high water has arrived at its signer."""
        seq = mark.get("seq") if isinstance(mark, dict) else None
        if not isinstance(seq, int):
            return
        top = _row(session, self.ctx.key.device_id, device, seq, required=False)
        if top is not None and mark.get("id") not in (None, top.id):
            log.error(
                "sync.high-water-mismatch",
                extra={
                    "device_id": device,
                    "seq": seq,
                    "theirs": mark.get("id"),
                    "ours": top.id,
                },
            )
            return
        from_hub = receipt is None or receipt.signer == "hub"
        model = JournalRecord if device == self.ctx.key.device_id else RelayRecord
        states = UNSETTLED if from_hub else OUTSTANDING
        query = select(model).where(model.seq <= seq, model.state.in_(states))
        if model is RelayRecord:
            query = query.where(RelayRecord.device == device)
        for row in session.scalars(query):
            if from_hub and receipt is not None and model is RelayRecord:
                row.upstream_batch = receipt.batch
            self.settle(row, _arrived(from_hub))

    def apply_hub_word(self, session, hub: dict | None) -> None:
        """Settle own records a gateway holds by the hub receipts it passes on.

        Only receipts that verify against the hub's key count. They sign the hub's
        high water, so acknowledgement is the hub's word; a verdict (rejected or
        quarantined) is applied only where the receipt of its batch signs the same
        device, seq, id, status and code, or a rejection of other bytes at that
        seq (the relay altered the record). A verdict's human `detail` is not
        signed and rests on the gateway's word alone.
        """
        if not isinstance(hub, dict):
            return

        own = self.ctx.key.device_id
        marks, signed = {}, {}
        for receipt in hub.get("receipts") or []:
            doc = self.hub_signed(receipt)
            if doc is not None:
                marks[doc.get("batch")] = (doc.get("high_water") or {}).get(own)
                signed[doc.get("batch")] = _signed_verdicts(doc, own)

        for verdict in hub.get("verdicts") or []:
            if isinstance(verdict, dict) and verdict.get("device") == own:
                self.apply_verdict(session, verdict, signed)

        for mark in marks.values():
            if mark:
                self.apply_high_water(session, own, mark)

    def hub_signed(self, receipt) -> dict | None:
        """The payload of a receipt the hub signed, or None (logged) if not."""
        try:
            payload = base64.b64decode(receipt["payload"])
            signature = base64.b64decode(receipt["signature"])
            if verify(self.enrollment.hub_key, signature, payload):
                doc = json.loads(payload)
                if isinstance(doc, dict):
                    return doc
        except (KeyError, TypeError, ValueError):
            pass  # unreadable counts as unsigned: logged below, never applied
        log.warning(
            "sync.hub-receipt-invalid", extra={"device_id": self.ctx.key.device_id}
        )
        return None

    def apply_verdict(self, session, verdict: dict, signed: dict) -> None:
        """Apply a relayed verdict only if the hub signed that very verdict."""
        status, seq = verdict.get("status"), verdict.get("seq")
        row = session.get(JournalRecord, seq) if isinstance(seq, int) else None
        if row is None or verdict.get("id") != row.id:
            return

        batch = verdict.get("batch")
        signed_id = signed.get(batch, {}).get(_verdict_key(verdict))
        if signed_id == row.id:
            self.settle(row, RecordState(status), verdict)
        elif signed_id is not None and status == "rejected":
            # The hub signed a rejection of other bytes at this seq: whoever
            # relayed the record altered it, and the hub never saw ours.
            detail = (
                f"the hub received other bytes than this record at seq {seq} "
                f"(id {signed_id}) and rejected them: the relay altered it"
            )
            extra = {"seq": seq, "code": verdict.get("code"), "batch": batch}
            log.warning("sync.relay-altered-record", extra=extra)
            self.settle(row, RecordState.REJECTED, {**verdict, "detail": detail})
        else:
            # A gateway that alters a code or invents a rejection lands here; so
            # does a verdict from a hub older than signed verdicts, which leaves
            # the record relayed until the tablet syncs with the hub itself.
            log.warning(
                "sync.verdict-contradicts-receipt",
                extra={
                    "seq": seq,
                    "status": status,
                    "code": verdict.get("code"),
                    "batch": batch,
                    "receipt_counted": batch in signed,
                },
            )


def _verdict_key(verdict: dict) -> str:
    """A verdict's signed fields but its id, as one comparable string."""
    fields = ("device", "seq", "status", "code")
    return json.dumps([verdict.get(name) for name in fields])


def _signed_verdicts(doc: dict, device: str) -> dict[str, object]:
    """The record id of each verdict a hub receipt signs for `device`, by key."""
    verdicts = doc.get("verdicts")
    if not isinstance(verdicts, list):
        return {}
    return {
        _verdict_key(v): v.get("id")
        for v in verdicts
        if isinstance(v, dict)
        and v.get("device") == device
        and v.get("status") in ("rejected", "quarantined")
    }


def _arrived(from_hub: bool) -> RecordState:
    return RecordState.ACKNOWLEDGED if from_hub else RecordState.RELAYED


def _json(response: requests.Response) -> dict:
    try:
        answer = response.json()
    except ValueError:
        raise SyncError("the upstream's answer is not JSON") from None
    if not isinstance(answer, dict):
        raise SyncError("the upstream's answer is not a JSON object")
    return answer


def outstanding(session, own_device: str, with_relayed: bool = False) -> list[Item]:
    """Own and relayed records not yet acknowledged, oldest first per device."""
    items = []
    states = UNSETTLED if with_relayed else OUTSTANDING
    own = select(JournalRecord).where(JournalRecord.state.in_(states))
    for row in session.scalars(own.order_by(JournalRecord.seq)):
        items.append(Item(own_device, row.seq, SignedRecord(row.raw, row.signature)))
    relayed = select(RelayRecord).where(RelayRecord.state.in_(OUTSTANDING))
    for row in session.scalars(relayed.order_by(RelayRecord.device, RelayRecord.seq)):
        items.append(Item(row.device, row.seq, SignedRecord(row.raw, row.signature)))
    return items


def waiting_count(session) -> int:
    """Own and relayed records not yet acknowledged by the upstream."""
    own = select(func.count()).select_from(JournalRecord)
    relayed = select(func.count()).select_from(RelayRecord)
    return session.scalar(
        own.where(JournalRecord.state.in_(OUTSTANDING))
    ) + session.scalar(relayed.where(RelayRecord.state.in_(OUTSTANDING)))


def _row(session, own_device: str, device: str, seq: int, required: bool = True):
    if device == own_device:
        row = session.get(JournalRecord, seq)
    else:
        row = session.get(RelayRecord, (device, seq))
    if row is None and required:
        raise SyncError(f"no stored record {device} #{seq}")
    return row


def merge_reference(session, answer: dict, own_device: str) -> int:
    """Fold the hub's reference data into the projections; returns rows merged.

    Rows this device created itself are kept as they are: the local projection
    already holds everything the hub knows of them, and possibly more.
    docs/sync-protocol.md does not fix the answer's field names, so this reads
    `farmers`, `plots`, `lots` (`remaining_g`), `devices` (`id` or `device_id`,
    base64 `public_key`, `kind`, `revoked` true or `status` "revoked") and
    `organisations` (`slug`, `name`, `kind`) and `cursor`; a hub that names them
    otherwise merges nothing until the two are aligned.
    """
    merged = 0
    for item in answer.get("farmers") or []:
        merged += _merge(session, Farmer, item, _farmer_fields)
    for item in answer.get("plots") or []:
        merged += _merge(session, Plot, item, _plot_fields)
    for item in answer.get("lots") or []:
        merged += _merge(session, Lot, item, _lot_fields)
    for item in answer.get("devices") or []:
        merged += _merge_device(session, item)
    for item in answer.get("organisations") or []:
        merged += _merge_organisation(session, item)
    return merged


def _merge_organisation(session, item: dict) -> int:
    slug = item.get("slug") if isinstance(item, dict) else None
    if not isinstance(slug, str) or not slug:
        return 0
    row = session.get(Organisation, slug) or Organisation(slug=slug)
    row.name = str(item.get("name") or slug)[:200]
    row.kind = item.get("kind")
    row.rev = next_rev(session)
    session.add(row)
    return 1


def _merge(session, model, item: dict, fields: Callable[[dict], dict]) -> int:
    if not isinstance(item, dict) or not item.get("id"):
        return 0
    row = session.get(model, item["id"])
    if row is not None and row.local:
        return 0
    values = fields(item)
    if row is None:
        row = model(id=item["id"], local=False, **values)
        session.add(row)
    else:
        for name, value in values.items():
            setattr(row, name, value)
    row.rev = next_rev(session)
    return 1


def _farmer_fields(item: dict) -> dict:
    return {
        "name": item.get("name") or item["id"],
        "village": item.get("village"),
        "fields": {},
    }


def _plot_fields(item: dict) -> dict:
    return {
        "farmer": item.get("farmer"),
        "geometry": item.get("geometry") or {},
        "area_ha": item.get("area_ha"),
        "declared_area_ha": item.get("declared_area_ha"),
    }


def _lot_fields(item: dict) -> dict:
    remaining = item.get("remaining_g", item.get("remaining_mass_g", 0))
    return {
        "mass_g": item.get("mass_g", remaining),
        "remaining_g": remaining,
        "dispatched_to": item.get("dispatched_to"),
    }


def _merge_device(session, item: dict) -> int:
    device_id = item.get("device_id") or item.get("id")
    try:
        public_key = base64.b64decode(item["public_key"])
    except (KeyError, TypeError, ValueError):
        return 0
    row = session.get(PeerDevice, device_id) or PeerDevice(id=device_id)
    row.public_key = public_key
    row.kind = item.get("kind") or "tablet"
    # The hub names a device's `status`; `revoked` is the older, boolean spelling.
    row.revoked = item.get("revoked") is True or item.get("status") == "revoked"
    row.rev = next_rev(session)
    session.add(row)
    return 1
