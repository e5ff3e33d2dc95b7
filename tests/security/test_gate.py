"""Heavy requests are admitted through each worker's gate: a bounded number at once, a
bounded share per key, ``503 busy`` with ``Retry-After`` past a short wait.

In process with threads for the gate's rules; against a real gunicorn for the attack: one
door key floods the workers with video unlocks on many connections, and the owner's
door, on a key of its own, opens after.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from faceid.errors import ServiceBusy
from faceid.lock.gate import Gate

from ..conftest import EXAMPLES, needs_faces
from ..server import Server, running


def holding(gate: Gate, key: str) -> tuple[threading.Event, threading.Thread]:
    """A thread admitted for ``key`` that holds its slot until the event is set."""
    release, ready = threading.Event(), threading.Event()

    def hold() -> None:
        with gate.admit(key):
            ready.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    assert ready.wait(5)
    return release, holder


def test_the_gate_bounds_slots_and_each_keys_share():
    gate = Gate(slots=2, per_key=1, wait_s=0.2)
    release, holder = holding(gate, "a")
    with pytest.raises(ServiceBusy) as busy, gate.admit("a"):  # key a's share is in use
        pass
    assert busy.value.retry_after == 1 and busy.value.status == 503
    # another key takes the free slot at once, and then every slot is taken
    with gate.admit("b"), pytest.raises(ServiceBusy), gate.admit(None):
        pass
    with gate.admit(None):  # an open call takes the slot b gave back
        pass
    release.set()
    holder.join(5)
    with gate.admit("a"):  # a's share is free again, and nothing leaked
        pass
    assert gate._keys == {}


def test_keyless_callers_never_hold_every_slot():
    """However many addresses send keyless uploads, they share at most ``slots - 1``: with
    a key's share as large as all the slots, a door still gets one."""
    from faceid.lock.gate import OPEN_ENDPOINTS

    gate = Gate(slots=2, per_key=2, wait_s=0.2)
    assert gate.open_share == 1
    release, holder = holding(gate, OPEN_ENDPOINTS)
    with pytest.raises(ServiceBusy) as busy, gate.admit(OPEN_ENDPOINTS):
        pass
    assert "open endpoints" in busy.value.message
    with gate.admit("door key"):  # the slot the open endpoints may not take
        pass
    release.set()
    holder.join(5)
    assert Gate(slots=1, per_key=1, wait_s=0).open_share == 1  # one slot: theirs too


def test_a_waiting_request_is_admitted_when_a_slot_frees():
    gate = Gate(slots=1, per_key=1, wait_s=5.0)
    release, holder = holding(gate, "a")
    threading.Timer(0.3, release.set).start()
    with gate.admit("b"):  # waits for a to finish, then runs
        assert release.is_set()
    holder.join(5)


@pytest.fixture
def crowded(store_config: dict[str, Any]) -> Iterator[Server]:
    with running(
        store_config,
        FACEID_HEAVY_REQUESTS="1",
        FACEID_HEAVY_WAIT_S="0",  # past the free slot: busy at once
        FACEID_REFUND_ATTEMPTS="1000",
    ) as srv:
        yield srv


@needs_faces
@pytest.mark.slow
@pytest.mark.parametrize("store_config", ["sqlite"], indirect=True)
def test_a_flood_of_heavy_requests_gets_busy_answers_not_the_worker(crowded: Server):
    """A door key sends 12 video unlocks on 6 connections (a video is decoded in a child
    process, so the worker takes other requests meanwhile): those that find the worker's
    slot taken answer 503 busy with Retry-After at once, so a worker works on one at a
    time; the workers live on, and the owner's door opens."""
    admin, attacker, owner_key = (crowded.key("acme", s) for s in ("admin", "unlock", "unlock"))

    def call(key: str, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {key}"}
        return requests.request(method, crowded.base + path, headers=headers, timeout=120, **kwargs)

    owner = call(admin, "POST", "/v1/subjects", json={"name": "owner"}).json()["id"]
    photo = [("images", ("o.jpg", (EXAMPLES / "obama.jpg").read_bytes()))]
    assert call(admin, "POST", f"/v1/subjects/{owner}/enrollments", files=photo).status_code == 201
    lock = call(admin, "POST", "/v1/locks", json={"name": "door", "liveness": "off"}).json()["id"]
    call(admin, "PUT", f"/v1/locks/{lock}/grants/{owner}")
    clip = (EXAMPLES / "short_hamilton_clip.mp4").read_bytes()

    def flood(_: int) -> requests.Response:
        return call(
            attacker, "POST", f"/v1/locks/{lock}/unlock", files=[("video", ("c.mp4", clip))]
        )

    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(flood, range(12)))
    health = requests.get(crowded.base + "/health", timeout=10)
    codes = [r.status_code for r in answers]
    assert set(codes) <= {200, 422, 503} and 503 in codes, codes
    busy = [r for r in answers if r.status_code == 503]
    assert all(r.json()["error"]["code"] == "busy" and r.headers["Retry-After"] for r in busy)
    assert health.status_code == 200
    sent = [("frames", ("o.jpg", (EXAMPLES / "obama2.jpg").read_bytes()))]
    opened = call(owner_key, "POST", f"/v1/locks/{lock}/unlock", files=sent)
    assert opened.status_code == 200 and opened.json()["verdict"] == "unlock"
