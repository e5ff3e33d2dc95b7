"""Subjects and their templates (face embeddings), encrypted at rest when a cipher is set."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from .core import SqlCore
from .records import Subject, Template, new_id


class SubjectsMixin(SqlCore):
    """Every query takes the organisation id; writes bump the organisation's counter."""

    def create_subject(self, org_id: str, name: str, metadata: dict[str, Any]) -> Subject:
        subject = Subject(new_id("sub"), name, metadata, time.time())
        with self.tx() as cur:
            self._exec(
                cur,
                "INSERT INTO subjects (id, org_id, name, metadata, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (subject.id, org_id, name, json.dumps(metadata), subject.created_at),
            )
        return subject

    _SUBJECT = (
        "SELECT s.id, s.name, s.metadata, s.created_at, "
        "(SELECT COUNT(*) FROM templates t WHERE t.subject_id = s.id) FROM subjects s "
    )

    def subject(self, org_id: str, subject_id: str) -> Subject | None:
        with self.tx(write=False) as cur:
            row = self._exec(
                cur, self._SUBJECT + "WHERE s.org_id = ? AND s.id = ?", (org_id, subject_id)
            ).fetchone()
        return Subject(row[0], row[1], json.loads(row[2]), row[3], row[4]) if row else None

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
        return [Subject(r[0], r[1], json.loads(r[2]), r[3], r[4]) for r in rows], int(total)

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
            self._bump(cur, org_id)
        return int(n)

    def _bump(self, cur: Any, org_id: str) -> None:
        self._exec(cur, "UPDATE orgs SET version = version + 1 WHERE id = ?", (org_id,))

    # -- templates -------------------------------------------------------------
    def _pack(self, template_id: str, vector: np.ndarray) -> tuple[bytes, int]:
        raw = np.asarray(vector, dtype="<f4").tobytes()
        if self.cipher is None:
            return raw, 0
        return self.cipher.encrypt(raw, template_id.encode()), 1

    def _unpack(self, template_id: str, data: bytes, encrypted: int) -> np.ndarray:
        raw = bytes(data)
        if encrypted:
            if self.cipher is None:
                raise RuntimeError("templates are encrypted: set FACEID_ENCRYPTION_KEY")
            raw = self.cipher.decrypt(raw, template_id.encode())
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
            for vector, quality, source, image in items:
                template_id = new_id("face")
                data, encrypted = self._pack(template_id, vector)
                self._exec(
                    cur,
                    "INSERT INTO templates (id, org_id, subject_id, model_id, dim, "
                    "vector, encrypted, quality, source, image, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                    ),
                )
                ids.append(template_id)
            self._bump(cur, org_id)
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

    def delete_template(self, org_id: str, subject_id: str, template_id: str) -> bool:
        with self.tx() as cur:
            cur = self._exec(
                cur,
                "DELETE FROM templates WHERE org_id = ? AND subject_id = ? AND id = ?",
                (org_id, subject_id, template_id),
            )
            deleted = bool(cur.rowcount)
            if deleted:
                self._bump(cur, org_id)
        return deleted

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
        data, encrypted = self._pack(template_id, vector)
        with self.tx() as cur:
            cur = self._exec(
                cur,
                "UPDATE templates SET vector = ?, encrypted = ?, quality = ?, "
                "source = ?, image = ?, dim = ?, created_at = ? "
                "WHERE org_id = ? AND subject_id = ? AND id = ?",
                (
                    self._blob(data),
                    encrypted,
                    float(quality),
                    source,
                    self._blob(image) if image is not None else None,
                    len(vector),
                    time.time(),
                    org_id,
                    subject_id,
                    template_id,
                ),
            )
            replaced = bool(cur.rowcount)
            if replaced:
                self._bump(cur, org_id)
        return replaced

    def load_gallery(self, org_id: str) -> tuple[int, list[str], list[str], np.ndarray]:
        """(version, template ids, subject ids, vectors) of an organisation, for the index."""
        with self.tx(write=False) as cur:
            version = self._exec(cur, "SELECT version FROM orgs WHERE id = ?", (org_id,)).fetchone()
            rows = self._exec(
                cur,
                "SELECT id, subject_id, vector, encrypted, dim FROM templates "
                "WHERE org_id = ? ORDER BY id",
                (org_id,),
            ).fetchall()
        dim = int(rows[0][4]) if rows else 0
        vectors = np.zeros((len(rows), dim), dtype=np.float32)
        for i, row in enumerate(rows):
            vectors[i] = self._unpack(row[0], row[2], row[3])
        return (
            int(version[0]) if version else 0,
            [r[0] for r in rows],
            [r[1] for r in rows],
            vectors,
        )
