"""Versioned schema migrations, written once for both SQLite and PostgreSQL.

``{float}``, ``{blob}`` and ``{serial}`` are replaced by each dialect's types.
A migration is a list of statements; the store applies the ones above the
version recorded in ``schema_version``, each migration in one transaction.
"""

from __future__ import annotations

MIGRATIONS: list[list[str]] = [
    # 1: organisations, keys, subjects, templates, locks, grants, lockout, audit
    [
        """CREATE TABLE orgs (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            model_id TEXT,
            version BIGINT NOT NULL DEFAULT 0,
            created_at {float} NOT NULL)""",
        """CREATE TABLE api_keys (
            id TEXT PRIMARY KEY,
            org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
            scope TEXT NOT NULL,
            key_hash TEXT NOT NULL,
            created_at {float} NOT NULL,
            revoked_at {float})""",
        """CREATE TABLE subjects (
            id TEXT PRIMARY KEY,
            org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            metadata TEXT NOT NULL,
            created_at {float} NOT NULL)""",
        "CREATE INDEX subjects_by_org ON subjects (org_id, created_at)",
        """CREATE TABLE templates (
            id TEXT PRIMARY KEY,
            org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
            subject_id TEXT NOT NULL REFERENCES subjects(id) ON DELETE CASCADE,
            model_id TEXT NOT NULL,
            dim INTEGER NOT NULL,
            vector {blob} NOT NULL,
            encrypted INTEGER NOT NULL,
            quality {float} NOT NULL,
            source TEXT NOT NULL,
            image {blob},
            created_at {float} NOT NULL)""",
        "CREATE INDEX templates_by_org ON templates (org_id)",
        "CREATE INDEX templates_by_subject ON templates (subject_id)",
        """CREATE TABLE locks (
            id TEXT PRIMARY KEY,
            org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            locked_until {float} NOT NULL DEFAULT 0,
            created_at {float} NOT NULL)""",
        "CREATE INDEX locks_by_org ON locks (org_id, created_at)",
        """CREATE TABLE grants (
            lock_id TEXT NOT NULL REFERENCES locks(id) ON DELETE CASCADE,
            subject_id TEXT NOT NULL REFERENCES subjects(id) ON DELETE CASCADE,
            created_at {float} NOT NULL,
            PRIMARY KEY (lock_id, subject_id))""",
        """CREATE TABLE lock_failures (
            lock_id TEXT NOT NULL REFERENCES locks(id) ON DELETE CASCADE,
            at {float} NOT NULL)""",
        "CREATE INDEX lock_failures_by_lock ON lock_failures (lock_id, at)",
        """CREATE TABLE audit (
            id {serial},
            at {float} NOT NULL,
            org_id TEXT NOT NULL,
            key_id TEXT,
            action TEXT NOT NULL,
            lock_id TEXT,
            subject_id TEXT,
            verdict TEXT,
            similarity {float},
            detail TEXT NOT NULL)""",
        "CREATE INDEX audit_by_org ON audit (org_id, at)",
    ],
    # 2: attempt budgets per lock, key and subject, reserved before the work (store/budgets.py);
    #    they replace lock_failures and locks.locked_until (left in place, no longer read)
    [
        """CREATE TABLE attempts (
            id TEXT NOT NULL,
            bucket TEXT NOT NULL,
            at {float} NOT NULL,
            outcome TEXT NOT NULL,
            PRIMARY KEY (id, bucket))""",
        "CREATE INDEX attempts_by_bucket ON attempts (bucket, at)",
        """CREATE TABLE lockouts (
            bucket TEXT PRIMARY KEY,
            until {float} NOT NULL,
            refused INTEGER NOT NULL DEFAULT 0)""",
        "DROP TABLE lock_failures",
    ],
    # 3: keys bound to doors (no foreign key on lock_id: a deleted lock must not unbind a key)
    [
        """CREATE TABLE key_locks (
            key_id TEXT NOT NULL REFERENCES api_keys(id) ON DELETE CASCADE,
            lock_id TEXT NOT NULL,
            PRIMARY KEY (key_id, lock_id))""",
    ],
    # 4: templates sealed to organisation, subject, id and model (encrypted = 2); rate limits
    [
        """CREATE TABLE rate_counters (
            key TEXT PRIMARY KEY,
            count INTEGER NOT NULL,
            expires_at {float} NOT NULL)""",
    ],
    # 5: each lock's operating point (faceid.faces.levels.LEVELS)
    ["ALTER TABLE locks ADD COLUMN level TEXT NOT NULL DEFAULT 'standard'"],
    # 6: liveness: each lock's policy (locks made before it keep frame unlock) and the
    #    challenges issued to doors (faceid.liveness)
    [
        "ALTER TABLE locks ADD COLUMN liveness TEXT NOT NULL DEFAULT 'off'",
        """CREATE TABLE challenges (
            id TEXT PRIMARY KEY,
            org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
            target TEXT NOT NULL,
            key_id TEXT NOT NULL,
            actions TEXT NOT NULL,
            created_at {float} NOT NULL,
            expires_at {float} NOT NULL,
            attempt TEXT NOT NULL,
            used_at {float})""",
        "CREATE INDEX challenges_by_expiry ON challenges (expires_at)",
    ],
    # 7: each challenge's cue schedule (seconds after it was issued; NULL: none checked)
    ["ALTER TABLE challenges ADD COLUMN cues TEXT"],
    # 8: escalating lockouts: how many lockouts of a bucket in a row no success has followed
    ["ALTER TABLE lockouts ADD COLUMN strikes INTEGER NOT NULL DEFAULT 1"],
    # 9: the organisation's change counter each template was written at, so a host's
    #    approximate index (faceid.lock.approx) reads only what was written after its build;
    #    and the build's pages in id order
    [
        "ALTER TABLE templates ADD COLUMN version BIGINT NOT NULL DEFAULT 0",
        "CREATE INDEX templates_by_version ON templates (org_id, version)",
        "CREATE INDEX templates_by_org_id ON templates (org_id, id)",
    ],
    # 10: the change counter of the organisation's last erasure (a template deleted or
    #     rewritten), so a host rebuilds an index that still holds erased faces' codes
    ["ALTER TABLE orgs ADD COLUMN erased_version BIGINT NOT NULL DEFAULT 0"],
]
