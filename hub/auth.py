"""Who is calling: console sessions and bearer API tokens, roles and organisations."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from functools import wraps

from flask import current_app, g, request
from flask import session as web_session
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from hub import db
from hub.errors import Forbidden, InvalidInput, LoginRequired
from hub.login_limit import LoginLimit
from hub.models import ROLES, ApiToken, Organisation, User, utcnow

# Roles that may write events of their own organisation through the API.
WRITERS = ("cooperative", "manufacturer", "distributor", "retailer", "admin")


@dataclass(frozen=True)
class Caller:
    """The authenticated user of this request."""

    user_id: int
    username: str
    role: str
    org_id: int | None
    org_slug: str | None

    @property
    def reads_all(self) -> bool:
        return self.role in ("auditor", "admin")


def hash_password(password: str) -> str:
    if len(password) < 10:
        raise InvalidInput("passwords need at least 10 characters", where="password")
    return generate_password_hash(password)


def create_user(
    session, username: str, password: str, role: str, org: Organisation | None
) -> User:
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}", where="role")
    if role not in ("admin", "auditor") and org is None:
        raise InvalidInput(f"a {role} user belongs to an organisation", where="org")

    user = User(
        username=username,
        password_hash=hash_password(password),
        role=role,
        org_id=org.id if org else None,
    )
    session.add(user)
    session.flush()
    return user


def create_api_token(session, user: User, label: str) -> str:
    """A new bearer token; only its hash is kept."""
    token = "ct_" + secrets.token_urlsafe(32)
    session.add(ApiToken(token_hash=_hash(token), user_id=user.id, label=label))
    return token


def check_login(session, username: str, password: str) -> User | None:
    user = session.scalar(select(User).where(User.username == username, User.active))
    if user is None or not check_password_hash(user.password_hash, password):
        return None
    return user


def attempt_login(username: str, password: str, address: str) -> User | None:
    """check_login behind the failure limit: refused while locked, then counted."""
    limit = login_limit()
    limit.check(db.session(), username, address)
    user = check_login(db.session(), username, password)
    with db.database().session() as writes:
        if user is None:
            limit.failed(writes, username, address)
        else:
            limit.succeeded(writes, username, address)
    return user


def login_limit() -> LoginLimit:
    """The app's limiter; tests swap its clock."""
    return current_app.extensions.setdefault("cocoa_login_limit", LoginLimit())


def current_caller() -> Caller | None:
    if "caller" in g:
        return g.caller

    caller = _from_bearer() or _from_session()
    g.caller = caller
    return caller


def require(*roles: str):
    """Decorator: the caller must be logged in, with one of `roles` when given."""

    def wrap(view):
        @wraps(view)
        def inner(*args, **kwargs):
            caller = current_caller()
            if caller is None:
                raise LoginRequired("log in, or send Authorization: Bearer <token>")
            if roles and caller.role not in roles:
                raise Forbidden(f"this needs one of the roles {', '.join(roles)}")
            return view(*args, **kwargs)

        return inner

    return wrap


def _from_bearer() -> Caller | None:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None

    session = db.session()
    token = session.scalar(
        select(ApiToken).where(
            ApiToken.token_hash == _hash(header[7:].strip()),
            ApiToken.revoked_at.is_(None),
        )
    )
    if token is None or not token.user.active:
        raise LoginRequired("the API token is unknown or revoked")
    token.last_used_at = utcnow()
    session.commit()
    return _caller(token.user)


def _from_session() -> Caller | None:
    user_id = web_session.get("user_id")
    if user_id is None:
        return None

    user = db.session().get(User, user_id)
    return _caller(user) if user is not None and user.active else None


def _caller(user: User) -> Caller:
    slug = user.org.slug if user.org else None
    return Caller(user.id, user.username, user.role, user.org_id, slug)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
