"""The store interface: one class per concern, joined here.

Every read and write takes the organisation id, so one organisation can never
see another's rows. The SQLite and PostgreSQL stores add connections and
dialect details only.
"""

from __future__ import annotations

from .budgets import BudgetsMixin
from .challenges import ChallengesMixin
from .counters import CountersMixin
from .gallery import GalleryMixin
from .locks import LocksMixin
from .orgs import OrgsMixin
from .quotas import QuotasMixin
from .subjects import SubjectsMixin


class Store(
    OrgsMixin,
    GalleryMixin,
    SubjectsMixin,
    LocksMixin,
    BudgetsMixin,
    CountersMixin,
    ChallengesMixin,
    QuotasMixin,
):
    """The gallery store interface (abstract: see SqliteStore and PostgresStore)."""
