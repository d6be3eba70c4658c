"""Console login throttling: failed attempts counted per username and address.

The counts live in the hub database, not in process memory, because the hub runs
several gunicorn workers and a guesser would otherwise get a fresh allowance from
each of them. One atomic upsert per failure keeps concurrent workers from losing
a count.

The address is the TCP peer the request came from. The hub's images serve
gunicorn directly; behind a reverse proxy every client would share the proxy's
address, the lock would become per username only, and a guesser could keep a
user locked out. A deployment that adds a proxy must install werkzeug's ProxyFix
with the number of trusted proxies first; the hub does not do that yet.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import case, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hub.errors import LoginThrottled
from hub.models import LoginFailure, utcnow

log = logging.getLogger("hub.login_limit")

# Five tries cover a clerk's typos and a caps-lock slip; a guesser gets five
# passwords per quarter hour, under 500 a day per address, against hashes that
# cost a dictionary attack far more than that. The lock is short and keyed by
# username AND address, so a guesser on one address cannot lock out the clerks
# of a cooperative who log in from elsewhere, and a locked-out clerk waits at
# most a quarter hour instead of calling an administrator.
MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)

# Longer inputs cannot match a user (usernames are at most 80 characters).
USERNAME_CHARS = 80
ADDRESS_CHARS = 45


class LoginLimit:
    """Refuses logins after repeated failures; `clock` is injectable for tests."""

    def __init__(self, clock: Callable[[], datetime] = utcnow):
        self.clock = clock

    def check(self, session: Session, username: str, address: str) -> None:
        """Raise LoginThrottled while this username and address are locked."""
        key = _key(username, address)
        row = session.get(LoginFailure, key)
        if row is None or row.failures < MAX_FAILURES:
            return

        left = row.window_started_at + WINDOW - self.clock()
        if left <= timedelta(0):
            return

        seconds = math.ceil(left.total_seconds())
        log.warning(
            "login.throttled",
            extra={"username": key[0], "address": key[1], "retry_after": seconds},
        )
        raise LoginThrottled(
            f"too many failed logins; try again in {math.ceil(seconds / 60)} "
            "minutes, or ask an administrator to check the account",
            retry_after=seconds,
        )

    def failed(self, session: Session, username: str, address: str) -> None:
        """Count one failure; a window that has passed starts again at one."""
        now = self.clock()
        cutoff = now - WINDOW
        # Rows whose window has passed say nothing any more; dropping them here
        # keeps the table as small as the last quarter hour of failures.
        session.execute(
            delete(LoginFailure).where(LoginFailure.window_started_at <= cutoff)
        )
        username, address = _key(username, address)
        dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
        stale = LoginFailure.window_started_at <= cutoff
        insert = dialect.insert(LoginFailure).values(
            username=username, address=address, failures=1, window_started_at=now
        )
        session.execute(
            insert.on_conflict_do_update(
                index_elements=["username", "address"],
                set_={
                    "failures": case((stale, 1), else_=LoginFailure.failures + 1),
                    "window_started_at": case(
                        (stale, now), else_=LoginFailure.window_started_at
                    ),
                },
            )
        )

    def succeeded(self, session: Session, username: str, address: str) -> None:
        """A successful login clears the count of this username and address."""
        username, address = _key(username, address)
        session.execute(
            delete(LoginFailure).where(
                LoginFailure.username == username, LoginFailure.address == address
            )
        )


def _key(username: str, address: str) -> tuple[str, str]:
    return username[:USERNAME_CHARS], address[:ADDRESS_CHARS]
