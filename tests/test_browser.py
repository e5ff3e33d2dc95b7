"""The web page in a real browser: enrol through the page, then open a door through it.

Debian's Chromium, driven by Playwright with the system browser, gets a fake camera that
plays a real clip (``--use-file-for-fake-video-capture``, a Y4M file FFmpeg makes from
``turns_and_blinks.mp4``). The page records it with MediaRecorder, so the server receives
the WebM a browser really sends: no duration, no frame count. The enrolment clip opens
on 2.2 s of black, so the face appears only after 1.5 s of it. The door is a second
browser whose camera plays the person turning left, then right. The service runs on a
real gunicorn with ``FACEID_CHALLENGE_ACTIONS=turn_left,turn_right`` and
``FACEID_CHALLENGE_SCHEDULE=off`` (cues every 1.8 s, unchecked): a recording can answer
only a challenge it knows in advance.

A screenshot of each step is kept in ``artifacts/browser/`` (``FACEID_ARTIFACTS``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from faceid.faces.decoder import Decoder, VideoLimits

from .conftest import FACES, ROOT, needs_faces, require_tool
from .server import Server

pytestmark = [needs_faces, pytest.mark.slow]
CLIP = FACES / "liveness" / "turns_and_blinks.mp4"
ARTIFACTS = Path(os.environ.get("FACEID_ARTIFACTS") or ROOT / "artifacts") / "browser"
#: The flags Chromium needs here (no sandbox as root, no network beyond loopback), and a
#: camera and microphone that need no prompt.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]
#: The page opens the camera, counts down 3 s, then records: each fake camera file holds
#: its first frame that long before the cut starts, and its last frame afterwards.
HOLD_S = 3.4


def camera_file(folder: Path, name: str, start: float, end: float, black_s: float = 0) -> Path:
    """A Y4M fake camera: ``HOLD_S`` of the cut's first frame, ``black_s`` of black, the
    cut of the real clip, then 3 s of its last frame."""
    ffmpeg = require_tool("ffmpeg")
    path = folder / f"{name}.y4m"
    pads = f"tpad=start_duration={black_s}:color=black," if black_s else ""
    hold = f"tpad=start_duration={HOLD_S}:start_mode=clone:stop_duration=3:stop_mode=clone"
    if black_s:  # black after the held frame: hold first, on the black-padded cut
        hold = f"tpad=start_duration={HOLD_S}:color=black:stop_duration=3:stop_mode=clone"
    vf = pads + hold
    subprocess.run(
        [
            ffmpeg,
            "-v",
            "error",
            "-y",
            "-ss",
            str(start),
            "-t",
            str(end - start),
            "-i",
            str(CLIP),
            "-vf",
            vf,
            "-pix_fmt",
            "yuv420p",
            "-an",
            str(path),
        ],
        check=True,
        timeout=120,
    )
    return path


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    srv = Server(
        {
            "FACEID_DATA_DIR": str(tmp_path / "data"),
            "FACEID_CHALLENGE_ACTIONS": "turn_left,turn_right",
            "FACEID_CHALLENGE_SCHEDULE": "off",  # a recording answers: its motion alone
        }
    )
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def door_key(server: Server, lock: str) -> str:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "faceid.cli",
            "keys",
            "create",
            "--org",
            "acme",
            "--scope",
            "unlock",
            "--lock",
            lock,
        ],
        cwd=ROOT,
        env=server.env,
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


class Browser:
    """One Chromium whose camera plays ``camera``; screenshots numbered as the steps go."""

    def __init__(self, playwright, camera: Path, shots: list[str]) -> None:
        self.browser = playwright.chromium.launch(
            executable_path=require_tool("chromium"),
            headless=True,
            args=[*FLAGS, f"--use-file-for-fake-video-capture={camera}"],
        )
        self.page = self.browser.new_page(viewport={"width": 420, "height": 900})
        self.page.set_default_timeout(120_000)
        self.shots = shots

    def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        file = f"{len(self.shots) + 1:02d}-{name}.png"
        self.page.screenshot(path=str(ARTIFACTS / file), full_page=True)
        self.shots.append(file)

    def open(self, base: str, key: str) -> None:
        self.page.goto(base + "/app")
        self.page.get_by_label("API key of your organisation").fill(key)
        self.page.get_by_role("button", name="Use this key").click()
        self.page.get_by_text("Key set for this tab.").wait_for()

    def close(self) -> None:
        self.browser.close()


def test_enrol_and_unlock_through_the_page(server: Server, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    enrol_camera = camera_file(tmp_path, "enrol", 16, 20, black_s=2.2)
    door_camera = camera_file(tmp_path, "door", 8.5, 13.5)
    admin = server.key("acme", "admin")
    shots: list[str] = []
    uploads: list[bytes] = []
    with sync_playwright() as playwright:
        phone = Browser(playwright, enrol_camera, shots)
        try:
            phone.open(server.base, admin)
            page = phone.page
            phone.shot("key")
            page.get_by_label("Person's name").fill("Franck")
            page.get_by_role("button", name="Create the person").click()
            page.locator("#subject-id", has_text="Franck (").wait_for()
            page.get_by_label("Selfie length (seconds)").select_option("5")

            def keep(route) -> None:
                uploads.append(route.request.post_data_buffer or b"")
                route.continue_()

            page.route("**/enrollments", keep)
            page.get_by_role("button", name="Record a selfie and enrol").click()
            page.locator("#cue", has_text="Recording").wait_for()
            phone.shot("enrol-recording")
            page.locator("#enrol-report p", has_text="Enrolled").wait_for()
            phone.shot("enrolled")
            page.get_by_role("button", name="Create the door").click()
            page.locator("#lock-status", has_text="created").wait_for()
            lock = page.get_by_label("Door id").input_value()
            page.get_by_role("button", name="Let the person open this door").click()
            page.locator("#lock-status", has_text="may open this door").wait_for()
            phone.shot("door-granted")
        finally:
            phone.close()

        door = Browser(playwright, door_camera, shots)
        try:
            door.open(server.base, door_key(server, lock))
            page = door.page
            page.get_by_label("Door id").fill(lock)
            page.get_by_role("button", name="Ask for a challenge and unlock").click()
            page.locator("#cue", has_text="1 of 2").wait_for()
            door.shot("challenge-turn-left")
            page.locator("#cue", has_text="2 of 2").wait_for()
            door.shot("challenge-turn-right")
            verdict = page.locator("#verdict")
            verdict.locator("text=/Open|Locked/").wait_for()
            door.shot("verdict")
            text = verdict.inner_text()
        finally:
            door.close()
    assert text.startswith("Open"), (text, server.log_text()[-3000:])
    assert "Franck" in text
    check_browser_webm(uploads, tmp_path)


def check_browser_webm(uploads: list[bytes], folder: Path) -> None:
    """The enrolment clip Chromium sent is a WebM with no length, its face only after 1.5 s."""
    assert len(uploads) == 1
    body = uploads[0]
    start = body.index(b"\x1a\x45\xdf\xa3")  # the EBML header opens a WebM file
    webm = folder / "browser.webm"
    webm.write_bytes(body[start : body.rindex(b"\r\n--")])
    (ARTIFACTS / "enrol-recorded-by-chromium.webm").write_bytes(webm.read_bytes())
    decoder = Decoder(str(webm), VideoLimits(max_frames=16))
    try:
        assert not decoder.seekable, "the browser's WebM declares a length"
        frames = decoder.frames()
    finally:
        decoder.close()
    assert frames[-1][1] > 4.0  # sampled over the whole 5 s, not its first half second
    dark = [time_s for _, time_s, image in frames if image.mean() < 10]
    assert dark and max(dark) >= 1.5, "the face should appear only after 1.5 s"
