"""When to sync: a nightly window job, and retries with backoff while records wait."""

from __future__ import annotations

import logging
import random
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger

from edge.context import EdgeContext
from edge.models import SyncState

# Retries double from one minute and are capped at four hours: 1, 2, 4 … 128 min,
# then every 4 h. The cap is reached after 8 failures, about 4 h 15 min after the
# first; from then on a device offline for weeks tries six times a day until the
# link returns, and the nightly window job tries as well. Success resets it.
RETRY_FIRST_S = 60
RETRY_FACTOR = 2
RETRY_CAP_S = 4 * 3600
RETRY_JOB = "sync-retry"
NIGHTLY_JOB = "sync-nightly"
RETRY_STATES = (SyncState.INTERRUPTED, SyncState.FAILED)

log = logging.getLogger(__name__)


def retry_delay(attempt: int, rand=random.random) -> float:
    """Seconds before retry `attempt` (1 = first): doubled, capped, half of it jitter."""
    ceiling = min(RETRY_CAP_S, RETRY_FIRST_S * RETRY_FACTOR ** max(attempt - 1, 0))
    # "Equal jitter": never sooner than half the step, so devices that lost the
    # link together do not all come back in the same second.
    return ceiling / 2 + rand() * ceiling / 2


class SyncScheduler:
    """Runs syncs in the background of `cocoa-edge serve`."""

    def __init__(self, ctx: EdgeContext):
        self.ctx = ctx
        self.scheduler = BackgroundScheduler(timezone=UTC)

    def start(self) -> None:
        hour, minute = (int(part) for part in self.ctx.config.sync_window.split(":"))
        self.scheduler.add_job(
            self.run,
            CronTrigger(hour=hour, minute=minute),
            id=NIGHTLY_JOB,
            replace_existing=True,
            misfire_grace_time=3600,
            coalesce=True,
        )
        self.scheduler.start()
        self.plan_retry()

    def shutdown(self) -> None:
        self.scheduler.shutdown(wait=False)

    def run(self) -> None:
        from edge import sync  # see plan_retry

        try:
            sync.run_sync(self.ctx)
        except Exception:
            log.exception("sync.scheduled-run-failed")
        self.plan_retry()

    def plan_retry(self) -> datetime | None:
        """Schedule the next retry if the last sync failed and records still wait."""
        with self.ctx.transaction() as session:
            status = self.ctx.sync_status(session)
            if status.state not in RETRY_STATES or not _waiting(session):
                status.next_retry_at = None
                return None
            when = datetime.now(UTC) + timedelta(seconds=retry_delay(status.attempt))
            status.next_retry_at = when

        self.scheduler.add_job(
            self.run, DateTrigger(run_date=when), id=RETRY_JOB, replace_existing=True
        )
        log.info(
            "sync.retry-planned",
            extra={"at": when.isoformat(), "attempt": status.attempt},
        )
        return when


def _waiting(session) -> int:
    # The sync module brings requests (~5 MB resident); an idle edge whose last
    # sync went well loads it only when the nightly job or a person starts one.
    from edge import sync

    return sync.waiting_count(session)
