"""The store interface, run against SQLite and a real PostgreSQL."""

from __future__ import annotations

import numpy as np
import pytest

from faceid.errors import ConfigError
from faceid.store import Budget, Refusal, open_store
from faceid.store.crypto import SEALED, parse_key
from faceid.store.schema import MIGRATIONS

from .conftest import settings_for

KEY = "11" * 32


def vec(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=128).astype(np.float32)
    return v / np.linalg.norm(v)


def test_migrations_are_idempotent(store_config):
    store = open_store(settings_for(**store_config))
    assert store.migrate() == len(MIGRATIONS)
    assert store.migrate() == len(MIGRATIONS)


def test_organisations_are_isolated(store_config):
    store = open_store(settings_for(**store_config))
    a, b = store.ensure_org("a"), store.ensure_org("b")
    assert store.ensure_org("a") == a
    subject = store.create_subject(a.id, "alice", {"team": 1})
    assert store.subject(a.id, subject.id).metadata == {"team": 1}
    assert store.subject(b.id, subject.id) is None
    assert store.list_subjects(b.id, 10, 0) == ([], 0)
    lock = store.create_lock(a.id, "door")
    assert store.lock(b.id, lock.id) is None
    assert store.delete_template(b.id, subject.id, "face_x") is False


def test_templates_round_trip_and_bump_the_version(store_config):
    store = open_store(settings_for(**store_config))
    org = store.ensure_org("o")
    subject = store.create_subject(org.id, "s", {})
    v0 = store.org_version(org.id)
    ids = store.add_templates(
        org.id, subject.id, "m", [(vec(1), 0.5, "image:0", None), (vec(2), 0.7, "image:1", None)]
    )
    assert store.org_version(org.id) == v0 + 1
    version, tids, sids, vectors = store.load_gallery(org.id)
    assert version == v0 + 1 and sorted(tids) == sorted(ids) and set(sids) == {subject.id}
    by_id = dict(zip(tids, vectors, strict=True))
    np.testing.assert_array_equal(by_id[ids[0]], vec(1))
    assert store.replace_template(org.id, subject.id, ids[0], vec(3), 0.9, "x", None)
    assert store.delete_template(org.id, subject.id, ids[1])
    _, tids, _, vectors = store.load_gallery(org.id)
    assert tids == [ids[0]]
    np.testing.assert_array_equal(vectors[0], vec(3))


def test_encryption_at_rest(store_config):
    store = open_store(settings_for(**{**store_config, "FACEID_ENCRYPTION_KEY": KEY}))
    org = store.ensure_org("o")
    subject = store.create_subject(org.id, "s", {})
    (tid,) = store.add_templates(org.id, subject.id, "m", [(vec(5), 0.5, "image", None)])
    with store.tx() as cur:
        raw = store._exec(
            cur, "SELECT vector, encrypted FROM templates WHERE id = ?", (tid,)
        ).fetchone()
    assert raw[1] == SEALED and bytes(raw[0]) != vec(5).astype("<f4").tobytes()
    np.testing.assert_array_equal(store.load_gallery(org.id)[3][0], vec(5))
    other = open_store(settings_for(**{**store_config, "FACEID_ENCRYPTION_KEY": "22" * 32}))
    assert other.load_gallery(org.id)[1] == []  # nothing decrypts with another key


def test_sealed_rows_cannot_be_moved_or_planted(store_config):
    """A ciphertext copied onto another subject, and a plain row written while a key is
    set, are both left out of the gallery."""
    store = open_store(settings_for(**{**store_config, "FACEID_ENCRYPTION_KEY": KEY}))
    org = store.ensure_org("o")
    victim = store.create_subject(org.id, "victim", {"door": "front"})
    attacker = store.create_subject(org.id, "attacker", {})
    (tid,) = store.add_templates(org.id, attacker.id, "m", [(vec(7), 0.5, "image", None)])
    with store.tx() as cur:
        store._exec(cur, "UPDATE templates SET subject_id = ? WHERE id = ?", (victim.id, tid))
        store._exec(
            cur,
            "INSERT INTO templates (id, org_id, subject_id, model_id, dim, vector, encrypted, "
            "quality, source, created_at) VALUES ('planted', ?, ?, 'm', 128, ?, 0, 1, 'x', 0)",
            (org.id, victim.id, store._blob(vec(7).astype("<f4").tobytes())),
        )
        names = store._exec(cur, "SELECT name, metadata FROM subjects").fetchall()
    assert store.load_gallery(org.id)[1] == []
    assert all(n.startswith("enc:") and m.startswith("enc:") for n, m in names)
    assert store.subject(org.id, victim.id).metadata == {"door": "front"}


@pytest.mark.parametrize("bad", ["short", "zz" * 32, "AAAA"])
def test_bad_encryption_keys(bad):
    with pytest.raises(ConfigError):
        parse_key(bad)


def test_deleting_a_subject_erases_templates_and_grants(store_config):
    store = open_store(settings_for(**store_config))
    org = store.ensure_org("o")
    subject = store.create_subject(org.id, "s", {})
    store.add_templates(org.id, subject.id, "m", [(vec(1), 0.5, "image", b"jpeg")])
    lock = store.create_lock(org.id, "door")
    assert store.grant(lock.id, subject.id) and not store.grant(lock.id, subject.id)
    assert store.delete_subject(org.id, subject.id) == 1
    assert store.granted(lock.id) == [] and store.load_gallery(org.id)[1] == []
    with store.tx() as cur:
        assert store._exec(cur, "SELECT COUNT(*) FROM templates").fetchone()[0] == 0


def test_lockout_after_repeated_failures(store_config):
    store = open_store(settings_for(**store_config))
    door = Budget("lock:door", attempts=3, window_s=60, lockout_s=30)
    shut = []
    for _ in range(3):
        attempt = store.reserve([door])
        assert isinstance(attempt, str)
        shut.append(store.settle(attempt, "fail", [door]))
    assert shut == [{}, {}, {"lock:door": 30}]
    refusal = store.reserve([door])
    assert isinstance(refusal, Refusal) and 0 < refusal.retry_after <= 30 and refusal.first
    assert isinstance(store.reserve([door]), Refusal) and not store.reserve([door]).first
    other = Budget("lock:other", attempts=3, window_s=60, lockout_s=30)
    for outcome in ("fail", "ok", "refund", "refund", "fail"):  # success and refunds: free
        attempt = store.reserve([other])
        assert isinstance(attempt, str)
        assert store.settle(attempt, outcome, [other]) == {}  # type: ignore[arg-type]


def test_lockouts_escalate_until_a_success_or_an_admin(store_config):
    """Each lockout with no success since the last one lasts twice as long, up to the cap;
    a success after a lockout has ended, or an admin's reset, starts again from the first."""
    import time

    store = open_store(settings_for(**store_config))
    door = Budget("lock:esc", attempts=2, window_s=60, lockout_s=0.2, max_lockout_s=2.0)

    def spend_budget() -> dict[str, float]:
        shut: dict[str, float] = {}
        for _ in range(door.attempts):
            attempt = store.reserve([door])
            assert isinstance(attempt, str)
            shut = store.settle(attempt, "fail", [door])
        return shut

    lengths = []
    for _ in range(5):
        lengths.append(spend_budget()["lock:esc"])
        assert isinstance(store.reserve([door]), Refusal)  # shut
        time.sleep(lengths[-1] + 0.05)
    assert lengths == pytest.approx([0.2, 0.4, 0.8, 1.6, 2.0])  # the 4th 8x the 1st; capped
    attempt = store.reserve([door])
    assert isinstance(attempt, str)
    store.settle(attempt, "ok", [door])  # the owner opens the door
    assert spend_budget() == pytest.approx({"lock:esc": 0.2})
    time.sleep(0.25)
    assert spend_budget() == pytest.approx({"lock:esc": 0.4})
    assert store.reset_bucket("lock:esc") and not store.reset_bucket("lock:esc")
    assert isinstance(store.reserve([door]), str)  # reopened at once
    assert Budget("b", 1, 1, 300, 86400).lockout_for(10**6) == 86400


def test_reservations_in_flight_count(store_config):
    """16 parallel reservations against a 5-attempt budget: exactly 5 get through."""
    from concurrent.futures import ThreadPoolExecutor

    store = open_store(settings_for(**store_config))
    door = Budget("lock:race", attempts=5, window_s=60, lockout_s=30)
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda _: store.reserve([door]), range(16)))
    granted = [r for r in results if isinstance(r, str)]
    assert len(granted) == 5
    assert all(r.busy for r in results if isinstance(r, Refusal))
    store.settle(granted[0], "refund", [door])
    assert isinstance(store.reserve([door]), str)


def test_audit_filters(store_config):
    store = open_store(settings_for(**store_config))
    org = store.ensure_org("o")
    store.audit(org.id, "unlock", lock_id="l1", verdict="locked", similarity=0.1, reason="x")
    store.audit(org.id, "unlock", lock_id="l2", verdict="unlock", similarity=0.99)
    events = store.audit_events(org.id, lock_id="l1", since=None, until=None, limit=10, offset=0)
    assert [e["lock_id"] for e in events] == ["l1"] and events[0]["detail"] == {"reason": "x"}
    assert (
        store.audit_events(
            org.id, lock_id=None, since=events[0]["at"] + 3600, until=None, limit=10, offset=0
        )
        == []
    )
    assert (
        store.audit_events(
            store.ensure_org("p").id, lock_id=None, since=None, until=None, limit=10, offset=0
        )
        == []
    )


def test_keys_are_stored_hashed(store_config):
    from faceid.errors import Unauthorized
    from faceid.lock.keys import authenticate, create_key

    store = open_store(settings_for(**store_config))
    key_id, key = create_key(store, "o", "unlock")
    assert key not in str(store.key(key_id))
    principal = authenticate(store, key)
    assert principal.scope == "unlock" and principal.key_id == key_id
    for bad in (None, "", key[:-1] + ("A" if key[-1] != "A" else "B"), "fid_key_x_y", "junk"):
        with pytest.raises(Unauthorized):
            authenticate(store, bad)
    store.revoke_key(key_id)
    with pytest.raises(Unauthorized):
        authenticate(store, key)


def _open_and_write(args: tuple[str, float]) -> str:
    import time

    path, start = args
    time.sleep(max(0.0, start - time.time()))  # all processes open the file at once
    store = open_store(settings_for(**{"FACEID_DATA_DIR": path}))
    org = store.ensure_org("shared")
    return store.create_subject(org.id, "x", {}).id


def test_workers_opening_a_new_sqlite_file_together(tmp_path):
    """gunicorn workers start at the same moment on a file that does not exist yet.

    A worker once failed to boot here with "database is locked" while switching a new
    file to WAL; this exercises twelve simultaneous first opens, though it does not
    reproduce that race every time."""
    import multiprocessing
    import time

    ctx = multiprocessing.get_context("fork")
    start = time.time() + 1.0
    with ctx.Pool(12) as pool:
        ids = pool.map(_open_and_write, [(str(tmp_path / "data"), start)] * 12, chunksize=1)
    assert len(set(ids)) == 12
    store = open_store(settings_for(**{"FACEID_DATA_DIR": str(tmp_path / "data")}))
    assert store.list_subjects(store.ensure_org("shared").id, 100, 0)[1] == 12


@pytest.mark.parametrize("pace", ["burst", "drip"])
def test_no_pace_of_failures_gets_more_than_the_day_budget(tmp_path, monkeypatch, pace):
    """An attacker with a door key fails as fast as the lock lets it (``burst``), or 4
    times every 5 minutes, under the short budget's limit (``drip``), for a week on a
    clock of its own, against the default settings' budgets: 20 failures a day."""
    from faceid.lock.attempts import budgets
    from faceid.settings import Settings
    from faceid.store import budgets as budget_module

    class Clock:
        now = 1_000_000.0

        def time(self) -> float:
            return self.now

    clock = Clock()
    monkeypatch.setattr(budget_module, "time", clock)
    cfg = Settings.load({"FACEID_DATA_DIR": str(tmp_path)}, instance_path=None)
    store = open_store(cfg)

    class Caller:
        key_id = "door"

    class Ctx:
        settings = cfg
        caller = Caller()

    spent = [b for b in budgets(Ctx(), lock_id="front") if b.bucket.startswith("lock:")]  # type: ignore[arg-type]
    start, failures = clock.now, []
    while clock.now < start + 7 * 86400:
        taken = store.reserve(spent)
        if isinstance(taken, Refusal):
            clock.now += taken.retry_after
            continue
        store.settle(taken, "fail", spent)
        failures.append(clock.now)
        if pace == "drip" and len(failures) % 4 == 0:
            clock.now += cfg.lockout_window_s
        clock.now += 1.0
    per_day = [
        sum(start + d * 86400 <= t < start + (d + 1) * 86400 for t in failures) for d in range(7)
    ]
    assert max(per_day) <= 20 and sum(per_day) <= 7 * 20, per_day
    assert per_day[0] == 20  # the day's budget is reachable, and no more


def test_a_work_budget_counts_the_calls_that_judged_nothing(store_config):
    """Refunded calls (no face, a liveness retry) spend the work budget and none of the
    failure budget; failures and successes the reverse; the service's own faults neither."""
    store = open_store(settings_for(**store_config))
    fails = Budget("lock:w", attempts=2, window_s=60, lockout_s=30)
    work = Budget("lock:w:work", attempts=3, window_s=60, lockout_s=30, spent_by="refund")
    both = [fails, work]
    shut = []
    for outcome in ("void", "void", "ok", "refund", "fail", "refund", "void", "refund"):
        attempt = store.reserve(both)
        assert isinstance(attempt, str), outcome
        shut.append(store.settle(attempt, outcome, both))  # type: ignore[arg-type]
    assert shut[:-1] == [{}] * 7 and shut[-1] == {"lock:w:work": 30}
    refusal = store.reserve(both)
    assert isinstance(refusal, Refusal) and refusal.bucket == "lock:w:work"
    with store.tx() as cur:  # one failure kept, no reservation left in flight
        rows = store._exec(cur, "SELECT bucket, outcome FROM attempts").fetchall()
    assert sorted(rows) == [("lock:w", "fail")]


def test_quotas_hold_under_parallel_writers(store_config):
    """Subjects, templates, locks and live keys per organisation: the writer that would
    pass a quota is refused (413 quota_exceeded), also when 12 race for the last 5."""
    from concurrent.futures import ThreadPoolExecutor

    from faceid.errors import QuotaExceeded
    from faceid.store import Quotas

    store = open_store(settings_for(**store_config))
    store.quotas = Quotas(subjects=5, templates=3, locks=1, keys=2)
    org, other = store.ensure_org("o"), store.ensure_org("p")

    def create(i: int) -> bool:
        try:
            store.create_subject(org.id, f"s{i}", {})
            return True
        except QuotaExceeded:
            return False

    with ThreadPoolExecutor(12) as pool:
        made = list(pool.map(create, range(12)))
    assert made.count(True) == 5 and len(store.list_subjects(org.id, 100, 0)[0]) == 5
    store.create_subject(other.id, "another organisation's own quota", {})
    subject = store.list_subjects(org.id, 1, 0)[0][0]
    store.add_templates(org.id, subject.id, "m", [(vec(1), 0.5, "image", None)] * 2)
    with pytest.raises(QuotaExceeded) as refused:
        store.add_templates(org.id, subject.id, "m", [(vec(2), 0.5, "image", None)] * 2)
    assert refused.value.status == 413 and refused.value.code == "quota_exceeded"
    store.create_lock(org.id, "door")
    with pytest.raises(QuotaExceeded):
        store.create_lock(org.id, "second door")
    store.add_key(org.id, "admin", "k1", "h1")
    store.add_key(org.id, "admin", "k2", "h2")
    with pytest.raises(QuotaExceeded):
        store.add_key(org.id, "admin", "k3", "h3")
    store.revoke_key("k1")  # revoked keys do not count
    store.add_key(org.id, "admin", "k3", "h3")


def test_the_audit_log_is_kept_for_its_retention_only(store_config, monkeypatch):
    import time

    from faceid.store import Quotas
    from faceid.store import quotas as quota_module

    store = open_store(settings_for(**store_config))
    org = store.ensure_org("o")
    store.audit(org.id, "old")
    time.sleep(0.05)
    monkeypatch.setattr(quota_module, "PRUNE_EVERY", 1)  # prune on every write
    store.quotas = Quotas(audit_days=0.02 / 86400)  # 20 ms
    store.audit(org.id, "new")
    events = store.audit_events(org.id, lock_id=None, since=None, until=None, limit=10, offset=0)
    assert [e["action"] for e in events] == ["new"]


def test_racing_deletions_cannot_take_a_granted_subjects_last_face(store_config):
    """Two enrolment keys delete a granted subject's two faces at once, 20 times over: one
    deletion passes, the other is refused, and a face always remains."""
    from concurrent.futures import ThreadPoolExecutor

    from faceid.errors import IdentityAnchored

    store = open_store(settings_for(**store_config))
    org = store.ensure_org("o")
    lock = store.create_lock(org.id, "door")
    for round_ in range(20):
        subject = store.create_subject(org.id, f"s{round_}", {})
        store.grant(lock.id, subject.id)
        ids = store.add_templates(org.id, subject.id, "m", [(vec(1), 0.5, "image", None)] * 2)

        def delete(face: str, subject_id: str = subject.id) -> str:
            try:
                return "deleted" if store.delete_template(org.id, subject_id, face, True) else "-"
            except IdentityAnchored:
                return "anchored"

        with ThreadPoolExecutor(2) as pool:
            outcomes = sorted(pool.map(delete, ids))
        assert outcomes == ["anchored", "deleted"], outcomes
        assert len(store.list_templates(org.id, subject.id)) == 1


def test_the_reads_of_a_host_index(store_config):
    """Pages in id order cover every template; each write is stamped with the change
    counter it made, so what came after a build is read alone; reads by id or subject
    give what still exists; a row sealed with another key is left out of all of them."""
    store = open_store(settings_for(**store_config, FACEID_ENCRYPTION_KEY=KEY))
    org = store.ensure_org("o")
    alice, bob = store.create_subject(org.id, "a", {}), store.create_subject(org.id, "b", {})
    first = store.add_templates(org.id, alice.id, "m", [(vec(i), 0.5, "x", None) for i in range(5)])
    built = store.org_version(org.id)
    later = store.add_templates(org.id, bob.id, "m", [(vec(9), 0.5, "x", None)])
    assert store.replace_template(org.id, alice.id, first[0], vec(7), 0.5, "x", None)
    pages = list(store.template_pages(org.id, page=2))
    assert [len(p) for p in pages] == [2, 2, 2]
    assert sorted(t for p in pages for t in p.template_ids) == sorted([*first, *later])
    since = store.templates_since(org.id, built)
    assert sorted(since.template_ids) == sorted([first[0], *later])
    np.testing.assert_array_equal(since.vectors[since.template_ids.index(first[0])], vec(7))
    assert store.delete_template(org.id, alice.id, first[1])
    by_id = store.templates_by_id(org.id, [first[1], first[2], later[0], "face_none"])
    assert sorted(by_id.template_ids) == sorted([first[2], later[0]])
    assert store.subjects_templates(org.id, [bob.id]).subject_ids == [bob.id]
    assert store.template_count(org.id) == 5
    assert store.templates_by_id(store.ensure_org("other").id, first).template_ids == []
    other = open_store(settings_for(**store_config, FACEID_ENCRYPTION_KEY="22" * 32))
    assert len(other.templates_since(org.id, 0)) == 0
