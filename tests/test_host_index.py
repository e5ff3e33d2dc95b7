"""A large organisation's host index: built once per host from the store, mapped by every
worker, and never wrong about what the store says now.

The first tests drive the store and the galleries in-process (SQLite, FAISS); the last
one runs a real gunicorn of two workers whose galleries pass the threshold, so a worker
starts the build itself, both map the same file, and enrolment and erasure through the
API are seen at once.
"""

from __future__ import annotations

import fcntl
import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import requests

from faceid import create_app
from faceid.errors import ConfigError, IndexBuilding
from faceid.lock import cache as cache_module
from faceid.lock.ann import ID_WIDTH, Shelf
from faceid.lock.approx import ApproxGallery, PendingGallery, build_host_index
from faceid.lock.cache import IndexCache, Launcher, in_memory, index_base
from faceid.lock.index import GalleryIndex
from faceid.store import SqliteStore, Store, TemplateCipher, new_id, open_store, parse_key

from .conftest import EXAMPLES, ROOT, needs_faces, settings_for
from .server import Server

DIM = 64


def filled(store: Store, people: int, seed: int = 0):
    """``people`` subjects of 5 templates around their own centre in the store; returns
    the store, the organisation's id and each subject's (id, centre)."""
    store.migrate()
    org = store.ensure_org("big")
    rng = np.random.default_rng(seed)
    subjects = []
    for i in range(people):
        subject = store.create_subject(org.id, f"p{i}", {})
        centre = rng.standard_normal(DIM).astype(np.float32)
        noisy = [(centre + 0.5 * rng.standard_normal(DIM), 0.9, "test", None) for _ in range(5)]
        store.add_templates(org.id, subject.id, "test-model", noisy)
        subjects.append((subject.id, centre))
    return store, org.id, subjects


def bulk_filled(store: Store, people: int, seed: int = 0):
    """As :func:`filled`, written in one transaction (an organisation's gallery as it
    stands before a build; the writes under test go through the store's methods)."""
    org = store.ensure_org("big")
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((people, DIM)).astype(np.float32)
    vectors = np.repeat(centres, 5, axis=0) + 0.5 * rng.standard_normal((people * 5, DIM))
    subjects = [new_id("sub") for _ in range(people)]
    p, now = store.placeholder, time.time()
    with store.tx() as cur:
        cur.executemany(
            f"INSERT INTO subjects (id, org_id, name, metadata, created_at) "
            f"VALUES ({p}, {p}, {p}, {p}, {p})",
            [(s, org.id, s, "{}", now) for s in subjects],
        )
        cur.executemany(
            f"INSERT INTO templates (id, org_id, subject_id, model_id, dim, vector, encrypted, "
            f"quality, source, created_at, version) VALUES ({', '.join([p] * 11)})",
            [
                (
                    new_id("face"),
                    org.id,
                    subjects[i // 5],
                    "test-model",
                    DIM,
                    store._blob(v.astype("<f4").tobytes()),
                    0,
                    0.9,
                    "test",
                    now,
                    0,
                )
                for i, v in enumerate(vectors)
            ],
        )
        store._exec(cur, "UPDATE orgs SET version = version + 1 WHERE id = ?", (org.id,))
    return store, org.id, list(zip(subjects, centres, strict=True))


@pytest.fixture
def big(store_config, tmp_path):
    """20,000 templates in SQLite and in PostgreSQL (where READ COMMITTED reads and
    concurrent writers make the change counter's order matter)."""
    store, org, subjects = bulk_filled(open_store(settings_for(**store_config)), 4000)
    shelf = Shelf(tmp_path / "index")
    launched: list[str] = []
    cache = IndexCache(store, shelf, approx_from=5000, launch=launched.append)
    return store, org, subjects, shelf, cache, launched


def test_the_index_answers_as_exact_search_does(big):
    """20,000 templates: the host index (10 cells, all probed at most 64) with exact
    re-ranking gives exact search's subject and score for every one of 300 queries."""
    store, org, subjects, shelf, cache, launched = big
    assert isinstance(cache.get(org), GalleryIndex)  # below the headroom: exact meanwhile
    assert launched == [org]  # ... and the build asked for
    manifest = build_host_index(store, shelf, org)
    assert manifest is not None and manifest.count == 20_000 and manifest.lists == 10
    gallery = cache.get(org)
    assert isinstance(gallery, ApproxGallery) and len(gallery) == 20_000
    exact = GalleryIndex(*store.load_gallery(org))
    rng = np.random.default_rng(1)
    for subject, centre in subjects[:300]:
        query = centre + 0.5 * rng.standard_normal(DIM).astype(np.float32)
        found, truth = gallery.best(query), exact.best(query)
        assert found is not None and truth is not None
        assert (found.subject_id, found.template_id) == (truth.subject_id, truth.template_id)
        assert found.similarity == pytest.approx(truth.similarity, abs=1e-6)
        assert found.subject_id == subject


def test_writes_after_the_build_are_seen_at_once(big):
    """An enrolment after the build is found, an erased subject never comes back (its
    rows are still in the index file), a rewritten template scores as it is now, and a
    lock's few grants are searched exactly."""
    store, org, subjects, shelf, cache, _ = big
    build_host_index(store, shelf, org)
    newcomer = store.create_subject(org, "new", {})
    centre = np.random.default_rng(5).standard_normal(DIM).astype(np.float32)
    store.add_templates(org, newcomer.id, "test-model", [(centre, 0.9, "test", None)])
    gallery = cache.get(org)
    assert isinstance(gallery, ApproxGallery) and gallery.delta == 1
    assert gallery.best(centre).subject_id == newcomer.id

    erased, erased_centre = subjects[0]
    store.delete_subject(org, erased)
    hits = cache.get(org).search(erased_centre, top_k=5)
    assert hits and erased not in {h.subject_id for h in hits}

    moved, moved_centre = subjects[1]
    template = store.list_templates(org, moved)[0]
    elsewhere = np.random.default_rng(6).standard_normal(DIM).astype(np.float32)
    assert store.replace_template(org, moved, template.id, elsewhere, 0.9, "test", None)
    hit = cache.get(org).best(elsewhere)
    assert (hit.subject_id, hit.template_id) == (moved, template.id)
    assert hit.similarity == pytest.approx(1.0, abs=1e-5)

    granted = [subjects[2][0], subjects[3][0], newcomer.id]
    assert cache.get(org).best(subjects[3][1], only=granted).subject_id == subjects[3][0]
    others = cache.get(org).search(subjects[2][1], only=granted, exclude=subjects[2][0])
    assert {h.subject_id for h in others} == {subjects[3][0], newcomer.id}


def test_a_rebuild_is_asked_once_writes_pass_the_share(big, monkeypatch):
    store, org, subjects, shelf, cache, launched = big
    build_host_index(store, shelf, org)
    launched.clear()
    monkeypatch.setattr(cache_module, "REBUILD_MIN", 3)
    monkeypatch.setattr(cache_module, "REBUILD_SHARE", 1e-4)  # 2 of 20,000: the minimum rules
    for subject, _ in subjects[:3]:
        store.delete_subject(org, subject)
    cache.get(org)
    assert launched == []  # 3 writes: not past the minimum
    store.delete_subject(org, subjects[3][0])
    cache.get(org)
    assert launched == [org]
    manifest = build_host_index(store, shelf, org)
    assert manifest is not None and manifest.count == 20_000 - 4 * 5
    gallery = cache.get(org)
    assert isinstance(gallery, ApproxGallery) and gallery.built == manifest.version
    assert sorted(p.name for p in shelf.folder(org).glob("v*")) == [
        f"{manifest.name}.faiss",
        f"{manifest.name}.ids",
    ]  # the older build's files are gone


def test_a_gallery_too_large_to_load_waits_for_its_index(big):
    """Above four times the threshold no worker loads the gallery whole while the host
    builds: a lock's few grants are still searched exactly from the store, a wider
    search is 503 with a Retry-After."""
    store, org, subjects, shelf, _, _ = big
    launched: list[str] = []
    cache = IndexCache(store, shelf, approx_from=1000, launch=launched.append)
    pending = cache.get(org)
    assert isinstance(pending, PendingGallery) and launched == [org]
    assert cache.get(org) is pending  # no recount while the counter stands
    subject, centre = subjects[9]
    assert pending.best(centre, only=[subject, subjects[10][0]]).subject_id == subject
    with pytest.raises(IndexBuilding) as refused:
        pending.best(centre)
    assert refused.value.status == 503 and refused.value.retry_after > 0
    build_host_index(store, shelf, org)
    assert isinstance(cache.get(org), ApproxGallery)


def test_a_deleted_template_does_not_hide_its_subject(big):
    """A subject enrolled after the build with two faces, the nearer one then deleted:
    the other still answers (the delta is searched per template, not per subject)."""
    store, org, _, shelf, cache, _ = big
    build_host_index(store, shelf, org)
    late = store.create_subject(org, "late", {})
    centre = np.random.default_rng(8).standard_normal(DIM).astype(np.float32)
    near, far = store.add_templates(
        org,
        late.id,
        "test-model",
        [(centre, 0.9, "t", None), (centre + 0.3 * np.ones(DIM, np.float32), 0.9, "t", None)],
    )
    assert cache.get(org).best(centre).template_id == near
    assert store.delete_template(org, late.id, near)
    hit = cache.get(org).best(centre)
    assert (hit.subject_id, hit.template_id) == (late.id, far)


def test_erased_faces_leave_the_host_index(big, monkeypatch):
    """An erasure after the build asks for a rebuild once the build is ERASE_AFTER_S old;
    the rebuilt files no longer hold the erased templates' ids."""
    store, org, subjects, shelf, cache, launched = big
    manifest = build_host_index(store, shelf, org)
    erased = store.list_templates(org, subjects[0][0])
    store.delete_subject(org, subjects[0][0])
    cache.get(org)
    launched.clear()
    cache.get(org)
    assert launched == []  # the build is new
    monkeypatch.setattr(cache_module, "ERASE_AFTER_S", 0.0)
    cache.get(org)
    assert launched == [org]
    rebuilt = build_host_index(store, shelf, org)
    ids = (shelf.folder(org) / f"{rebuilt.name}.ids").read_bytes()
    assert rebuilt.version > manifest.version and all(t.id.encode() not in ids for t in erased)


def test_a_shrunk_organisation_is_searched_exactly_again(big):
    """A build finding fewer templates than it keeps an index for (half the threshold,
    from the settings) retires the index: its files go and workers search exactly."""
    store, org, subjects, shelf, cache, _ = big
    build_host_index(store, shelf, org)
    for subject, _ in subjects[:10]:
        store.delete_subject(org, subject)
    assert build_host_index(store, shelf, org, keep_from=20_000) is None
    assert shelf.manifest(org) is None and not list(shelf.folder(org).glob("v*"))
    gallery = cache.get(org)
    assert isinstance(gallery, GalleryIndex) and len(gallery) == 20_000 - 50


def test_an_index_newer_than_the_store_is_not_trusted(big):
    """A store restored to an earlier state: the host's index, built at a later counter,
    would hide what is written now below it; it is set aside and rebuilt."""
    store, org, _, shelf, cache, launched = big
    build_host_index(store, shelf, org)
    with store.tx() as cur:
        store._exec(cur, "UPDATE orgs SET version = 0 WHERE id = ?", (org,))
    launched.clear()
    assert isinstance(cache.get(org), GalleryIndex) and launched == [org]


def test_the_index_folder_must_be_this_users_own(tmp_path):
    shared = tmp_path / "open"
    shared.mkdir(mode=0o777)
    os.chmod(shared, 0o777)
    assert index_base(str(shared)) == shared
    assert stat.S_IMODE(os.stat(shared).st_mode) == 0o700  # repaired
    link = tmp_path / "link"
    link.symlink_to(shared)
    with pytest.raises(ConfigError, match="link or belongs to another user"):
        index_base(str(link))
    if os.getuid() == 0:  # only root can give a folder away
        theirs = tmp_path / "theirs"
        theirs.mkdir()
        os.chown(theirs, 4242, 4242)
        with pytest.raises(ConfigError):
            index_base(str(theirs))


def test_an_encrypted_store_refuses_an_index_folder_on_disk(tmp_path):
    overrides = {
        "FACEID_DATA_DIR": str(tmp_path / "data"),
        "FACEID_ENCRYPTION_KEY": "ab" * 32,
        "FACEID_INDEX_DIR": str(tmp_path / "index"),
    }
    if in_memory(tmp_path):
        pytest.skip("the temporary folder is itself in memory here")
    with pytest.raises(ConfigError, match="on disk while templates are encrypted"):
        create_app(overrides)


def test_failed_builds_are_asked_for_less_and_less_often(tmp_path):
    """A build that fails (here: an organisation the store does not hold) is not asked
    for again by this worker until twice the wait has passed."""
    launcher = Launcher({**os.environ, "FACEID_DATA_DIR": str(tmp_path)})
    launcher("org_0000000000000000")
    launcher._running["org_0000000000000000"].wait(timeout=120)
    launcher("org_0000000000000000")  # reaps the failure: the next wait doubles
    assert launcher._wait["org_0000000000000000"] == 2 * cache_module.LAUNCH_EVERY_S
    assert "org_0000000000000000" not in launcher._running


def test_one_build_per_host(big):
    """A second process finds the build lock held and leaves (flock: per open file)."""
    store, org, _, shelf, _, _ = big
    shelf.folder(org).mkdir(parents=True, exist_ok=True)
    with open(shelf.folder(org) / "build.lock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        assert build_host_index(store, shelf, org) is None
    assert build_host_index(store, shelf, org) is not None


def test_sealed_templates_are_indexed_and_the_files_are_private(tmp_path):
    cipher = TemplateCipher(parse_key("a" * 64))
    store, org, subjects = filled(SqliteStore(tmp_path / "store.sqlite", cipher), 300)
    shelf = Shelf(tmp_path / "index")
    assert build_host_index(store, shelf, org) is not None
    gallery = IndexCache(store, shelf, approx_from=100).get(org)
    assert isinstance(gallery, ApproxGallery)
    assert gallery.best(subjects[7][1]).subject_id == subjects[7][0]
    assert stat.S_IMODE(os.stat(shelf.folder(org)).st_mode) == 0o700
    for path in shelf.folder(org).iterdir():
        if path.name != "build.lock":
            assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path


def test_an_id_too_long_for_the_file_is_refused(tmp_path):
    shelf = Shelf(tmp_path)
    (tmp_path / "org").mkdir()
    pages = [(["x" * (ID_WIDTH + 1)], np.ones((1, DIM), np.float32))]
    with pytest.raises(ValueError, match="longer than"):
        shelf.build("org", 1, 1, pages)


@pytest.mark.slow
@needs_faces
def test_a_host_builds_its_index_itself_and_both_workers_map_it(tmp_path):
    """gunicorn, 2 workers, threshold 1,000: an owner enrolled over HTTP among 1,500
    stored strangers. The first identify is exact and starts the build; then both
    workers answer from the one index file, an enrolment after it is found at once and
    an erased owner is no longer found."""
    data, index_dir = tmp_path / "data", tmp_path / "index"
    server = Server(
        {
            "FACEID_DATA_DIR": str(data),
            "FACEID_INDEX_DIR": str(index_dir),
            "FACEID_INDEX_APPROX_FROM": "1000",
        }
    )
    server.start()
    try:
        _identify_through_the_host_index(server, data, index_dir)
    finally:
        server.stop()


def _identify_through_the_host_index(server: Server, data: Path, index_dir: Path) -> None:
    admin = server.key("acme", "admin")
    door = server.key("acme", "unlock")

    def call(key: str, method: str, path: str, **kwargs) -> requests.Response:
        headers = {"Authorization": f"Bearer {key}"}
        return requests.request(method, server.base + path, headers=headers, timeout=60, **kwargs)

    def identify(photo: Path) -> list[str]:
        sent = {"image": (photo.name, photo.read_bytes())}
        answer = call(door, "POST", "/v1/identify", files=sent)
        assert answer.status_code == 200, answer.text
        return [m["id"] for m in answer.json()["matches"]]

    def enrol(name: str, photo: Path) -> str:
        subject = call(admin, "POST", "/v1/subjects", json={"name": name}).json()["id"]
        sent = [("images", (photo.name, photo.read_bytes()))]
        assert call(admin, "POST", f"/v1/subjects/{subject}/enrollments", files=sent).ok
        return subject

    owner = enrol("owner", EXAMPLES / "obama.jpg")
    owner_faces = call(admin, "GET", f"/v1/subjects/{owner}/faces").json()["items"]
    assert owner_faces
    store = SqliteStore(data / "faceid.db")
    org = store.org_by_name("acme")
    assert org is not None and org.model_id
    rng = np.random.default_rng(0)
    stranger = store.create_subject(org.id, "strangers", {})
    strangers = rng.standard_normal((1500, 128)).astype(np.float32)
    store.add_templates(org.id, stranger.id, org.model_id, [(v, 0.9, "t", None) for v in strangers])

    assert identify(EXAMPLES / "obama2.jpg") == [owner]  # exact, and the build started
    deadline = time.monotonic() + 120
    manifests = list(index_dir.glob("*/*/current.json"))
    while not manifests and time.monotonic() < deadline:
        time.sleep(0.5)
        manifests = list(index_dir.glob("*/*/current.json"))
    assert manifests, server.log_text()[-3000:]
    built = json.loads(manifests[0].read_text())
    assert built["count"] == 1501
    index_file = manifests[0].parent / f"v{built['version']}.faiss"

    workers = _workers(server)
    mapping: set[int] = set()
    for _ in range(40):
        assert identify(EXAMPLES / "obama2.jpg") == [owner]
        mapping = {
            pid for pid in workers if str(index_file) in Path(f"/proc/{pid}/maps").read_text()
        }
        if mapping == set(workers):
            break
    assert len(workers) == 2 and mapping == set(workers)

    newcomer = enrol("newcomer", EXAMPLES / "biden.jpg")
    for _ in range(4):
        assert identify(EXAMPLES / "biden.jpg") == [newcomer]
    assert call(admin, "DELETE", f"/v1/subjects/{owner}").ok
    for _ in range(4):
        assert owner not in identify(EXAMPLES / "obama2.jpg")

    report = _index_command(server, "status")
    assert report["index"]["count"] == 1501 and report["templates"] == 1501  # -1 +1
    assert report["writes_since_build"] >= 2
    # as README says to run it at deploy: the erased owner's row is gone from the files
    rebuilt = _index_command(server, "build")
    assert rebuilt["count"] == 1501 and rebuilt["version"] > built["version"]
    ids = (manifests[0].parent / f"v{rebuilt['version']}.ids").read_bytes()
    assert all(t["id"].encode() not in ids for t in owner_faces)
    for _ in range(4):
        assert identify(EXAMPLES / "biden.jpg") == [newcomer]


def _index_command(server: Server, command: str) -> dict:
    """``faceid index <command> --org acme`` with the server's settings; its JSON."""
    done = subprocess.run(
        [sys.executable, "-m", "faceid.cli", "index", command, "--org", "acme"],
        cwd=ROOT,
        env=server.env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def _workers(server: Server) -> list[int]:
    assert server.proc is not None
    found = subprocess.run(
        ["pgrep", "-P", str(server.proc.pid)], capture_output=True, text=True, check=False
    )
    return [int(pid) for pid in found.stdout.split()]
