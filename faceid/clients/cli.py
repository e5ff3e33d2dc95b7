"""``faceid door``: the reference door client as a command (see :mod:`.door`)."""

from __future__ import annotations

import shlex
import subprocess
import sys

import click

from .door import Camera, DoorError, Service, attempt

#: Exit statuses: 0 opened, 1 locked (a verdict), 2 no verdict (service or camera error).
OPENED, LOCKED, FAILED = 0, 1, 2


@click.command("door")
@click.option(
    "--url", required=True, envvar="FACEID_URL", help="The service, e.g. http://host:8000."
)
@click.option(
    "--key", required=True, envvar="FACEID_DOOR_KEY", help="The door's key (or FACEID_DOOR_KEY)."
)
@click.option("--lock", required=True, envvar="FACEID_LOCK", help="The lock id.")
@click.option("--camera", default="0", show_default=True, help="Camera number or a video file.")
@click.option("--countdown", default=3, show_default=True, help="Seconds before recording.")
@click.option("--loop", is_flag=True, help="Serve: one attempt per line read on stdin.")
@click.option("--on-open", default="", help="A command run when the door opens (the relay).")
def door(
    url: str, key: str, lock: str, camera: str, countdown: int, loop: bool, on_open: str
) -> None:
    """Ask for a challenge, show its instructions, record, post, print the verdict.

    Exits 0 when the door opens, 1 when it stays locked, 2 when no verdict came (the
    service refused the call or could not be reached, or the camera failed). With
    ``--loop`` it waits for a line on stdin (a doorbell wired as a key press) before each
    attempt, and runs until stdin closes.
    """
    service = Service(url, key, lock)
    status = FAILED
    try:
        while True:
            if loop and not sys.stdin.readline():
                break
            status = _one(service, camera, countdown, on_open)
            if not loop:
                break
    finally:
        service.close()
    sys.exit(status)


def _one(service: Service, source: str, countdown: int, on_open: str) -> int:
    def show(line: str) -> None:
        click.echo(line)

    try:
        camera = Camera(source)
        try:
            verdict = attempt(service, camera, show, countdown)
        finally:
            camera.close()
    except DoorError as exc:
        click.echo(f"NO VERDICT: {exc}", err=True)
        return FAILED
    click.echo(verdict.describe())
    if verdict.opened and on_open:
        try:
            subprocess.run(shlex.split(on_open), check=False, timeout=60)
        except (OSError, subprocess.SubprocessError) as exc:
            click.echo(f"the --on-open command failed: {exc}", err=True)
    return OPENED if verdict.opened else LOCKED
