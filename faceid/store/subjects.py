"""Subjects and their templates (face embeddings), encrypted at rest when a cipher is set."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from cryptography.exceptions import InvalidTag

from ..errors import ConfigError, IdentityAnchored
from .crypto import SEALED, SEALED_ROW_ONLY, open_text, seal_text, template_aad
from .quotas import QuotasMixin
from .records import Subject, Template, new_id

log = logging.getLogger(__name__)


class SubjectsMixin(QuotasMixin):
    """Every query takes the organisation id; writes bump the organisation's counter."""

    def create_subject(self, org_id: str, name: str, metadata: dict[str, Any]) -> Subject:
        subject = Subject(new_id("sub"), name, metadata, time.time())
        aad = f"subject\x1f{org_id}\x1f{subject.id}"
        with self.tx() as cur:
            self._within_quota(cur, org_id, "subjects")
            self._exec(
                cur,
                "INSERT INTO subjects (id, org_id, name, metadata, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    subject.id,
                    org_id,
                    seal_text(self.cipher, name, aad + "\x1fname"),
                    seal_text(self.cipher, json.dumps(metadata), aad + "\x1fmetadata"),
                    subject.created_at,
                ),
            )
        return subject

    def _subject_row(self, org_id: str, row: Sequence[Any]) -> Subject:
        aad = f"subject\x1f{org_id}\x1f{row[0]}"
        name = open_text(self.cipher, row[1], aad + "\x1fname")
        metadata = json.loads(open_text(self.cipher, row[2], aad + "\x1fmetadata"))
        return Subject(row[0], name, metadata, row[3], row[4])

    _SUBJECT = (
        "SELECT s.id, s.name, s.metadata, s.created_at, "
        "(SELECT COUNT(*) FROM templates t WHERE t.subject_id = s.id) FROM subjects s "
    )

    def subject(self, org_id: str, subject_id: str) -> Subject | None:
        with self.tx(write=False) as cur:
            row = self._exec(
                cur, self._SUBJECT + "WHERE s.org_id = ? AND s.id = ?", (org_id, subject_id)
            ).fetchone()
        return self._subject_row(org_id, row) if row else None

    def list_subjects(self, org_id: str, limit: int, offset: int) -> tuple[list[Subject], int]:
        with self.tx(write=False) as cur:
            rows = self._exec(
                cur,
                self._SUBJECT + "WHERE s.org_id = ? ORDER BY s.created_at, s.id LIMIT ? OFFSET ?",
                (org_id, limit, offset),
            ).fetchall()
            total = self._exec(
                cur, "SELECT COUNT(*) FROM subjects WHERE org_id = ?", (org_id,)
            ).fetchone()[0]
        return [self._subject_row(org_id, r) for r in rows], int(total)

    def delete_subject(self, org_id: str, subject_id: str) -> int:
        """Erase a subject, every template of theirs and their grants; returns templates erased."""
        with self.tx() as cur:
            n = self._exec(
                cur,
                "SELECT COUNT(*) FROM templates WHERE org_id = ? AND subject_id = ?",
                (org_id, subject_id),
            ).fetchone()[0]
            self._exec(
                cur,
                "DELETE FROM templates WHERE org_id = ? AND subject_id = ?",
                (org_id, subject_id),
            )
            self._exec(cur, "DELETE FROM grants WHERE subject_id = ?", (subject_id,))
            self._exec(
                cur, "DELETE FROM subjects WHERE org_id = ? AND id = ?", (org_id, subject_id)
            )
            self._bump(cur, org_id, erased=bool(n))
        return int(n)

    def _bump(self, cur: Any, org_id: str, erased: bool = False) -> int:
        """Move the organisation's change counter on; returns its new value. The row stays
        locked to the transaction's end, so values are taken in the order writes commit.
        ``erased``: a template is deleted or rewritten (``erased_version`` follows)."""
        also = ", erased_version = version + 1" if erased else ""
        self._exec(cur, f"UPDATE orgs SET version = version + 1{also} WHERE id = ?", (org_id,))
        row = self._exec(cur, "SELECT version FROM orgs WHERE id = ?", (org_id,)).fetchone()
        return int(row[0]) if row else 0

    # -- templates -------------------------------------------------------------
    def _pack(self, aad: bytes, vector: np.ndarray) -> tuple[bytes, int]:
        raw = np.asarray(vector, dtype="<f4").tobytes()
        if self.cipher is None:
            return raw, 0
        return self.cipher.encrypt(raw, aad), SEALED

    def _unpack(
        self, ids: tuple[str, str, str, str], data: bytes, sealed: int
    ) -> np.ndarray | None:
        """A row's vector; None for a row that must not be trusted: plain while a key is
        set, or sealed to other ids than its own (copied from elsewhere)."""
        org_id, subject_id, template_id, model_id = ids
        raw = bytes(data)
        if sealed and self.cipher is None:
            raise ConfigError("Templates are encrypted: set FACEID_ENCRYPTION_KEY.")
        if self.cipher is not None:
            if not sealed:
                log.error("plain template refused while a key is set", extra={"id": template_id})
                return None
            aad = (
                template_id.encode()
                if sealed == SEALED_ROW_ONLY
                else template_aad(org_id, subject_id, template_id, model_id)
            )
            try:
                raw = self.cipher.decrypt(raw, aad)
            except InvalidTag:
                log.error("template failed its authentication", extra={"id": template_id})
                return None
        return np.frombuffer(raw, dtype="<f4").copy()

    def add_templates(
        self,
        org_id: str,
        subject_id: str,
        model_id: str,
        items: Sequence[tuple[np.ndarray, float, str, bytes | None]],
    ) -> list[str]:
        """Store (vector, quality, source, image-or-None) rows; returns their ids."""
        ids = []
        now = time.time()
        with self.tx() as cur:
            self._within_quota(cur, org_id, "templates", len(items))
            version = self._bump(cur, org_id)
            for vector, quality, source, image in items:
                template_id = new_id("face")
                aad = template_aad(org_id, subject_id, template_id, model_id)
                data, encrypted = self._pack(aad, vector)
                self._exec(
                    cur,
                    "INSERT INTO templates (id, org_id, subject_id, model_id, dim, "
                    "vector, encrypted, quality, source, image, created_at, version) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        template_id,
                        org_id,
                        subject_id,
                        model_id,
                        len(vector),
                        self._blob(data),
                        encrypted,
                        float(quality),
                        source,
                        self._blob(image) if image is not None else None,
                        now,
                        version,
                    ),
                )
                ids.append(template_id)
        return ids

    def list_templates(self, org_id: str, subject_id: str) -> list[Template]:
        with self.tx(write=False) as cur:
            rows = self._exec(
                cur,
                "SELECT id, subject_id, model_id, quality, source, created_at "
                "FROM templates WHERE org_id = ? AND subject_id = ? "
                "ORDER BY created_at, id",
                (org_id, subject_id),
            ).fetchall()
        return [Template(*r) for r in rows]

    def delete_template(
        self, org_id: str, subject_id: str, template_id: str, anchored: bool = False
    ) -> bool:
        """Delete one template; with ``anchored``, refuse (:class:`IdentityAnchored`) to
        delete the last one of a subject who holds grants, checked in the same transaction."""
        with self.tx() as cur:
            if anchored:  # one deletion at a time per subject: two racing could take both
                self._lock_bucket(cur, f"faces:{subject_id}")
                if self._last_of_granted(cur, org_id, subject_id, template_id):
                    raise IdentityAnchored(
                        "This is the last face of a subject who may open doors: only an admin "
                        "key may remove it (enrol the new faces first; they must match this one)."
                    )
            cur = self._exec(
                cur,
                "DELETE FROM templates WHERE org_id = ? AND subject_id = ? AND id = ?",
                (org_id, subject_id, template_id),
            )
            deleted = bool(cur.rowcount)
            if deleted:
                self._bump(cur, org_id, erased=True)
        return deleted

    def _last_of_granted(self, cur: Any, org_id: str, subject_id: str, template_id: str) -> bool:
        rows = self._exec(
            cur,
            "SELECT id FROM templates WHERE org_id = ? AND subject_id = ?",
            (org_id, subject_id),
        ).fetchall()
        return [r[0] for r in rows] == [template_id] and self._holds_grants(cur, subject_id)

    def _holds_grants(self, cur: Any, subject_id: str) -> bool:
        row = self._exec(
            cur, "SELECT 1 FROM grants WHERE subject_id = ? LIMIT 1", (subject_id,)
        ).fetchone()
        return row is not None

    def holds_grants(self, subject_id: str) -> bool:
        """Whether any door is granted to the subject."""
        with self.tx(write=False) as cur:
            return self._holds_grants(cur, subject_id)

    def replace_template(
        self,
        org_id: str,
        subject_id: str,
        template_id: str,
        vector: np.ndarray,
        quality: float,
        source: str,
        image: bytes | None,
    ) -> bool:
        with self.tx() as cur:
            row = self._exec(
                cur,
                "SELECT model_id FROM templates WHERE org_id = ? AND subject_id = ? AND id = ?",
                (org_id, subject_id, template_id),
            ).fetchone()
            if row is None:
                return False
            aad = template_aad(org_id, subject_id, template_id, row[0])
            data, encrypted = self._pack(aad, vector)
            version = self._bump(cur, org_id, erased=True)
            cur = self._exec(
                cur,
                "UPDATE templates SET vector = ?, encrypted = ?, quality = ?, "
                "source = ?, image = ?, dim = ?, created_at = ?, version = ? "
                "WHERE org_id = ? AND subject_id = ? AND id = ?",
                (
                    self._blob(data),
                    encrypted,
                    float(quality),
                    source,
                    self._blob(image) if image is not None else None,
                    len(vector),
                    time.time(),
                    version,
                    org_id,
                    subject_id,
                    template_id,
                ),
            )
            replaced = bool(cur.rowcount)
        return replaced
