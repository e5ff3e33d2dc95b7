"""A real gunicorn process on loopback, started the way README says: ``make run``.

The README's curl examples are run against it, so the README stays true.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from .conftest import EXAMPLES, ROOT, SHARED, needs_faces
from .server import free_port

README = ROOT / "README.md"


def get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="module")
def server(data_dir: Path) -> Iterator[str]:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    port = free_port()
    env = {
        **os.environ,
        "FACEID_PORT": str(port),
        "FACEID_WORKERS": "1",
        "FACEID_HOST": "127.0.0.1",
        "FACEID_DATA_DIR": str(data_dir),
    }
    env.pop("FACEID_MODELS_DIR", None)  # the default pipeline needs no model folder
    proc = subprocess.Popen(
        ["make", "run"],
        cwd=ROOT,
        env=env,
        start_new_session=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    try:
        while True:
            if proc.poll() is not None:
                out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
                pytest.fail(f"make run exited with {proc.returncode}:\n{out[-3000:]}")
            try:
                if get(base + "/ready")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("gunicorn did not become ready in 180 s")
            time.sleep(0.5)
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def test_health_ready_index(server):
    assert get(server + "/health") == (200, {"status": "ok"})
    assert get(server + "/ready") == (200, {"status": "ready"})
    status, body = get(server + "/")
    assert status == 200 and body["models"] == {
        "detector": "hog",
        "embedder": "dlib",
        "model": "dlib-resnet-v1",
        "threshold": 0.941,
    }
    assert body["levels"] == {"standard": 0.941, "high": 0.96}


def test_openapi_describes_the_endpoints(server):
    status, spec = get(server + "/openapi.json")
    assert status == 200 and spec["openapi"].startswith("3.")
    for path in (
        "/extract_embeddings_from_image",
        "/extract_embeddings_from_video",
        "/compare_embeddings",
    ):
        assert "post" in spec["paths"][path]
    assert "CompareRequest" in json.dumps(spec)
    unlock = spec["paths"]["/v1/locks/{lock_id}/unlock"]["post"]
    assert {"bearer": []} in unlock["security"]
    assert "security" not in spec["paths"]["/compare_embeddings"]["post"]


@needs_faces
def test_bad_upload_is_a_json_4xx_and_the_worker_survives(server):
    boundary = "XbX"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="image"; '
            f'filename="x.jpg"\r\n\r\n'
        ).encode()
        + b"\x00garbage"
        + f"\r\n--{boundary}--\r\n".encode()
    )
    req = urllib.request.Request(
        server + "/extract_embeddings_from_image",
        data=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=30)
    assert err.value.code == 415
    assert json.loads(err.value.read())["error"]["code"] == "invalid_image"
    assert get(server + "/health")[0] == 200


def readme_blocks() -> list[str]:
    return re.findall(r"```(?:sh|bash|shell)\n(.*?)```", README.read_text(), flags=re.S)


def readme_commands() -> list[str]:
    """Every ``curl`` command in README's shell blocks but the walkthrough, run one by one."""
    blocks = [b for b in readme_blocks() if "walkthrough" not in b.splitlines()[0]]
    joined = "\n".join(blocks).replace("\\\n", " ")
    return [line.strip() for line in joined.splitlines() if line.strip().startswith("curl ")]


def test_readme_has_curl_examples_for_every_endpoint():
    commands = " ".join(readme_commands())
    for path in (
        "/extract_embeddings_from_image",
        "/extract_embeddings_from_video",
        "/compare_embeddings",
        "/health",
        "/ready",
        "/openapi.json",
    ):
        assert path in commands, path


@needs_faces
@pytest.mark.parametrize("command", readme_commands())
def test_readme_curl_example_works(server, command):
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    assert EXAMPLES.is_dir()
    command = command.replace("http://127.0.0.1:8000", server).replace("../shared", str(SHARED))
    result = subprocess.run(
        ["bash", "-c", command], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, (command, result.stdout[-500:], result.stderr[-500:])
    out = result.stdout.strip()
    body = json.loads(out)
    assert "error" not in body, body


@needs_faces
def test_readme_walkthrough_unlocks_obama_and_not_biden(server, data_dir):
    (block,) = [b for b in readme_blocks() if b.startswith("# walkthrough")]
    script = block.replace("http://127.0.0.1:8000", server).replace("../shared", str(SHARED))
    env = {**os.environ, "FACEID_DATA_DIR": str(data_dir)}
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    outputs = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    enrolment, grant, obama, biden, audit = outputs
    assert len(enrolment["templates"]) == 2 and grant["granted"] is True
    assert obama["verdict"] == "unlock" and obama["subject"]["name"] == "Barack Obama"
    assert biden["verdict"] == "locked"
    assert [e["verdict"] for e in audit["items"] if e["action"] == "unlock"] == ["unlock", "locked"]


def test_readme_setup_is_two_make_commands():
    text = README.read_text()
    setup = text[: text.index("## ", text.index("\n") + 1)]
    assert re.findall(r"^make \w+", setup, flags=re.M) == ["make run", "make test"]


def test_path_is_a_real_file():
    assert Path(ROOT / "gunicorn.conf.py").is_file()
