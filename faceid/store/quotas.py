"""Quotas per organisation: how many subjects, templates, locks and live keys one may
hold, checked inside the writing transaction (under a lock per organisation and kind, so
parallel writers cannot all pass the check before any of them is counted); and how long
its audit log is kept.

The store is given its :class:`Quotas` by :func:`faceid.store.open_store` from the
settings (``FACEID_QUOTA_*``, ``FACEID_AUDIT_RETENTION_DAYS``); a store made directly
has none.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Any

from ..errors import QuotaExceeded
from .core import SqlCore

#: What each quota counts: the table, and which of its rows.
COUNTED = {
    "subjects": ("subjects", "1 = 1"),
    "templates": ("templates", "1 = 1"),
    "locks": ("locks", "1 = 1"),
    "keys": ("api_keys", "revoked_at IS NULL"),
}
PRUNE_EVERY = 64  # about one audit write in this many also drops the expired rows


@dataclass(frozen=True)
class Quotas:
    """Most rows of each kind one organisation may hold (None: no limit), and the days
    its audit events are kept (None: for ever)."""

    subjects: int | None = None
    templates: int | None = None
    locks: int | None = None
    keys: int | None = None
    audit_days: float | None = None


class QuotasMixin(SqlCore):
    """Quota checks for the writing mixins, and the audit log's retention."""

    quotas = Quotas()

    def _within_quota(self, cur: Any, org_id: str, kind: str, adding: int = 1) -> None:
        """Raise :class:`QuotaExceeded` when ``adding`` more rows of ``kind`` would take
        the organisation past its quota (call inside the writing transaction)."""
        limit = getattr(self.quotas, kind)
        if limit is None:
            return
        table, which = COUNTED[kind]
        self._lock_bucket(cur, f"quota:{kind}:{org_id}")
        held = self._exec(
            cur, f"SELECT COUNT(*) FROM {table} WHERE org_id = ? AND {which}", (org_id,)
        ).fetchone()[0]
        if held + adding > limit:
            setting = f"FACEID_QUOTA_{kind.upper()}"
            raise QuotaExceeded(
                f"This organisation holds {held} {kind}; the quota is {limit} ({setting}).",
                kind=kind,
                held=int(held),
                quota=limit,
            )

    def _prune_audit(self, cur: Any, org_id: str) -> None:
        """Now and then, drop the organisation's audit events older than the retention."""
        days = self.quotas.audit_days
        if days is None or random.randrange(PRUNE_EVERY):  # noqa: S311 - not a secret
            return
        self._exec(
            cur,
            "DELETE FROM audit WHERE org_id = ? AND at < ?",
            (org_id, time.time() - days * 86400),
        )
