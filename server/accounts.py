"""Users, access and refresh tokens, teams, memberships and invitations (blocking; worker threads).

Refresh tokens rotate: each use revokes the presented token and issues a new one of the same
family. Presenting a revoked refresh token revokes its whole family (refresh and access tokens),
because it means a copy of the token is in someone else's hands.

Every writing transaction goes through :meth:`Accounts._write`. On SQLite that is ``BEGIN
IMMEDIATE``, which takes the database's write lock before the first read (waiting for it up to the
busy timeout). A plain ``BEGIN`` that reads and then writes fails at once with "database is locked"
(``SQLITE_BUSY_SNAPSHOT``, which ignores the busy timeout) whenever another connection committed a
write in between: a login, another acceptance, the batched event flush. On PostgreSQL, changes to
a team's memberships first lock the team's row (``SELECT ... FOR NO KEY UPDATE``), so two
acceptances by the same user, or an acceptance and a role change, cannot both find "no membership
yet" and collide on the primary key, and the "a team keeps an owner" check sees the other
transaction's change.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, and_, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from server import db
from server.config import ServerConfig
from server.errors import ApiError
from server.protocol import ROLES, role_at_least
from server.security import new_id, new_token, token_hash


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    access_expires_in: int
    refresh_token: str
    user_id: str

    def as_json(self) -> dict[str, object]:
        return {
            "access_token": self.access_token,
            "access_expires_in": self.access_expires_in,
            "refresh_token": self.refresh_token,
            "user_id": self.user_id,
        }


class Accounts:
    def __init__(self, engine: Engine, config: ServerConfig) -> None:
        self.engine = engine
        self.config = config

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """A write transaction, committed when the block ends (``BEGIN IMMEDIATE`` on SQLite;
        see the module docstring)."""
        # sqlite_immediate is read by server.db's "begin" hook; PostgreSQL ignores it.
        with self.engine.connect().execution_options(sqlite_immediate=True) as c, c.begin():
            yield c

    @staticmethod
    def _lock_team(c: Connection, team_id: str) -> None:
        """Hold the team's row until the transaction ends: ``FOR NO KEY UPDATE`` on PostgreSQL,
        which serialises membership changes of one team but not inserts that only refer to it
        (invitations, projects). SQLite leaves the clause out; :meth:`_write`'s lock is enough."""
        c.execute(
            select(db.teams.c.id).where(db.teams.c.id == team_id).with_for_update(key_share=True)
        )

    # users and tokens
    def create_user(self, email: str, name: str, password_hash: str) -> str:
        user_id = new_id()
        try:
            with self._write() as c:
                c.execute(
                    insert(db.users).values(
                        id=user_id,
                        email=email,
                        name=name,
                        password_hash=password_hash,
                        created_at=time.time(),
                    )
                )
        except IntegrityError:
            raise ApiError("conflict", "an account with this email exists") from None
        return user_id

    def password_hash(self, email: str) -> tuple[str | None, str | None]:
        with self.engine.connect() as c:
            row = c.execute(
                select(db.users.c.id, db.users.c.password_hash).where(db.users.c.email == email)
            ).first()
        return (row.id, row.password_hash) if row else (None, None)

    def user(self, user_id: str) -> dict[str, str]:
        with self.engine.connect() as c:
            row = c.execute(select(db.users).where(db.users.c.id == user_id)).one()
        return {"user_id": row.id, "email": row.email, "name": row.name}

    def issue_tokens(self, user_id: str, family_id: str | None = None) -> TokenPair:
        with self._write() as c:
            return self._issue(c, user_id, family_id or new_id())

    def _issue(self, c: Connection, user_id: str, family_id: str) -> TokenPair:
        now = time.time()
        access, refresh = new_token(), new_token()
        c.execute(
            insert(db.access_tokens).values(
                token_hash=token_hash(access),
                user_id=user_id,
                family_id=family_id,
                expires_at=now + self.config.access_ttl_s,
            )
        )
        c.execute(
            insert(db.refresh_tokens).values(
                token_hash=token_hash(refresh),
                user_id=user_id,
                family_id=family_id,
                expires_at=now + self.config.refresh_ttl_s,
                created_at=now,
            )
        )
        return TokenPair(access, int(self.config.access_ttl_s), refresh, user_id)

    def authenticate(self, access_token: str) -> str:
        """The user id of a valid access token, else ``unauthenticated``."""
        with self.engine.connect() as c:
            row = c.execute(
                select(db.access_tokens.c.user_id, db.access_tokens.c.expires_at).where(
                    db.access_tokens.c.token_hash == token_hash(access_token)
                )
            ).first()
        if row is None or row.expires_at <= time.time():
            raise ApiError("unauthenticated", "the access token is unknown, expired or revoked")
        return str(row.user_id)

    def refresh(self, refresh_token: str) -> TokenPair:
        digest = token_hash(refresh_token)
        now = time.time()
        with self._write() as c:
            row = c.execute(
                select(db.refresh_tokens).where(db.refresh_tokens.c.token_hash == digest)
            ).first()
            if row is None or row.expires_at <= now:
                raise ApiError("unauthenticated", "the refresh token is unknown or expired")
            used = c.execute(
                update(db.refresh_tokens)
                .where(
                    and_(
                        db.refresh_tokens.c.token_hash == digest,
                        db.refresh_tokens.c.revoked_at.is_(None),
                    )
                )
                .values(revoked_at=now)
            )
            if used.rowcount == 1:
                return self._issue(c, row.user_id, row.family_id)
            if self._answer_was_lost(c, row, now):
                return self._issue(c, row.user_id, row.family_id)
        # A revoked token came back: someone holds a copy. End the whole family.
        self._revoke_family(row.family_id)
        raise ApiError("unauthenticated", "the refresh token was already used; signed out")

    def _answer_was_lost(self, c: Connection, row: Any, now: float) -> bool:
        """Whether a revoked refresh token is back because the answer to its rotation never
        arrived (a server killed after the commit, a dropped connection): it was rotated at most
        ``refresh_reuse_s`` ago and the token that rotation issued was never used. Then that
        unused successor is revoked here, and the caller issues a new pair. A copy presented
        later, or after its successor was used, still ends the family."""
        if row.revoked_at is None or now - row.revoked_at > self.config.refresh_reuse_s:
            return False
        successors = c.execute(
            select(db.refresh_tokens.c.token_hash, db.refresh_tokens.c.revoked_at).where(
                and_(
                    db.refresh_tokens.c.family_id == row.family_id,
                    db.refresh_tokens.c.created_at >= row.revoked_at,
                )
            )
        ).all()
        if len(successors) != 1 or successors[0].revoked_at is not None:
            return False
        c.execute(
            update(db.refresh_tokens)
            .where(db.refresh_tokens.c.token_hash == successors[0].token_hash)
            .values(revoked_at=now)
        )
        return True

    def _revoke_family(self, family_id: str) -> None:
        now = time.time()
        with self._write() as c:
            c.execute(
                update(db.refresh_tokens)
                .where(
                    and_(
                        db.refresh_tokens.c.family_id == family_id,
                        db.refresh_tokens.c.revoked_at.is_(None),
                    )
                )
                .values(revoked_at=now)
            )
            c.execute(delete(db.access_tokens).where(db.access_tokens.c.family_id == family_id))

    def logout(self, refresh_token: str) -> None:
        with self.engine.connect() as c:
            row = c.execute(
                select(db.refresh_tokens.c.family_id).where(
                    db.refresh_tokens.c.token_hash == token_hash(refresh_token)
                )
            ).first()
        if row is not None:
            self._revoke_family(row.family_id)

    def purge_expired(self) -> int:
        """Delete expired access tokens and refresh tokens expired a day ago; returns the count."""
        now = time.time()
        with self._write() as c:
            a = c.execute(delete(db.access_tokens).where(db.access_tokens.c.expires_at <= now))
            r = c.execute(
                delete(db.refresh_tokens).where(db.refresh_tokens.c.expires_at <= now - 86400)
            )
        return int(a.rowcount or 0) + int(r.rowcount or 0)

    # teams
    def role(self, team_id: str, user_id: str) -> str | None:
        with self.engine.connect() as c:
            return c.execute(
                select(db.memberships.c.role).where(
                    and_(db.memberships.c.team_id == team_id, db.memberships.c.user_id == user_id)
                )
            ).scalar()

    def require_role(self, team_id: str, user_id: str, needed: str) -> str:
        """The user's role in the team; ``not_found`` for outsiders, ``forbidden`` if too low."""
        role = self.role(team_id, user_id)
        if role is None:
            raise ApiError("not_found", "no such team")
        if not role_at_least(role, needed):
            raise ApiError("forbidden", f"this needs the {needed} role")
        return role

    def create_team(self, user_id: str, name: str) -> str:
        team_id = new_id()
        with self._write() as c:
            c.execute(insert(db.teams).values(id=team_id, name=name, created_at=time.time()))
            c.execute(insert(db.memberships).values(team_id=team_id, user_id=user_id, role="owner"))
        return team_id

    def teams_of(self, user_id: str) -> list[dict[str, str]]:
        with self.engine.connect() as c:
            rows = c.execute(
                select(db.teams.c.id, db.teams.c.name, db.memberships.c.role)
                .join(db.memberships, db.memberships.c.team_id == db.teams.c.id)
                .where(db.memberships.c.user_id == user_id)
                .order_by(db.teams.c.created_at)
            ).all()
        return [{"team_id": r.id, "name": r.name, "role": r.role} for r in rows]

    def members(self, team_id: str) -> list[dict[str, str]]:
        with self.engine.connect() as c:
            rows = c.execute(
                select(db.users.c.id, db.users.c.name, db.memberships.c.role)
                .join(db.memberships, db.memberships.c.user_id == db.users.c.id)
                .where(db.memberships.c.team_id == team_id)
                .order_by(db.users.c.name)
            ).all()
        return [{"user_id": r.id, "name": r.name, "role": r.role} for r in rows]

    def change_member(self, team_id: str, user_id: str, role: str | None) -> None:
        """Set a member's role, or remove the member (``role`` None). A team keeps an owner."""
        with self._write() as c:
            self._lock_team(c, team_id)
            current = c.execute(
                select(db.memberships.c.role).where(
                    and_(db.memberships.c.team_id == team_id, db.memberships.c.user_id == user_id)
                )
            ).scalar()
            if current is None:
                raise ApiError("not_found", "no such member")
            if current == "owner" and role != "owner":
                owners = c.execute(
                    select(func.count()).where(
                        and_(db.memberships.c.team_id == team_id, db.memberships.c.role == "owner")
                    )
                ).scalar_one()
                if owners <= 1:
                    raise ApiError("conflict", "a team keeps at least one owner")
            where = and_(db.memberships.c.team_id == team_id, db.memberships.c.user_id == user_id)
            if role is None:
                c.execute(delete(db.memberships).where(where))
            else:
                c.execute(update(db.memberships).where(where).values(role=role))

    def invite(self, team_id: str, created_by: str, role: str, expires_in_s: float) -> str:
        token = new_token()
        with self._write() as c:
            c.execute(
                insert(db.invitations).values(
                    token_hash=token_hash(token),
                    team_id=team_id,
                    role=role,
                    created_by=created_by,
                    expires_at=time.time() + expires_in_s,
                )
            )
        return token

    def accept(self, token: str, user_id: str) -> tuple[str, str]:
        """Use an invitation once; the user keeps a higher role already held."""
        digest, now = token_hash(token), time.time()
        with self._write() as c:
            row = c.execute(
                select(db.invitations).where(db.invitations.c.token_hash == digest)
            ).first()
            if row is None:
                raise ApiError("not_found", "no such invitation")
            used = c.execute(
                update(db.invitations)
                .where(
                    and_(
                        db.invitations.c.token_hash == digest,
                        db.invitations.c.used_at.is_(None),
                        db.invitations.c.expires_at > now,
                    )
                )
                .values(used_at=now, used_by=user_id)
            )
            if used.rowcount != 1:
                raise ApiError("gone", "this invitation was used or has expired")
            self._lock_team(c, row.team_id)
            where = and_(
                db.memberships.c.team_id == row.team_id, db.memberships.c.user_id == user_id
            )
            current = c.execute(select(db.memberships.c.role).where(where)).scalar()
            if current is None:
                c.execute(
                    insert(db.memberships).values(
                        team_id=row.team_id, user_id=user_id, role=row.role
                    )
                )
                return row.team_id, row.role
            if ROLES.index(row.role) > ROLES.index(current):
                c.execute(update(db.memberships).where(where).values(role=row.role))
                return row.team_id, row.role
            return row.team_id, current
