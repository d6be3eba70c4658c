import pytest

from edge.models import SyncState
from edge.scheduler import RETRY_CAP_S, RETRY_FIRST_S, SyncScheduler, retry_delay


def test_backoff_doubles_from_the_first_step():
    highs = [retry_delay(n, rand=lambda: 1.0) for n in range(1, 6)]

    assert highs == [RETRY_FIRST_S * 2**k for k in range(5)]


def test_backoff_is_capped():
    assert retry_delay(50, rand=lambda: 1.0) == RETRY_CAP_S


@pytest.mark.parametrize("attempt", [1, 4, 12])
def test_jitter_stays_between_half_and_the_full_step(attempt):
    step = retry_delay(attempt, rand=lambda: 1.0)

    low = retry_delay(attempt, rand=lambda: 0.0)

    assert low == step / 2


def test_retry_is_planned_only_while_records_wait_after_a_failure(ctx, farmer_and_plot):
    scheduler = SyncScheduler(ctx)
    with ctx.transaction() as session:
        status = ctx.sync_status(session)
        status.state, status.attempt = SyncState.INTERRUPTED, 3

    when = scheduler.plan_retry()

    with ctx.transaction() as session:
        ctx.sync_status(session).state = SyncState.SUCCEEDED
    assert when is not None
    assert scheduler.scheduler.get_job("sync-retry") is not None
    assert scheduler.plan_retry() is None
