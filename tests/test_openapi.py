"""The API description is complete and true: every route in it, an offline /docs page, and
schemathesis against a live gunicorn finds no 5xx, no undocumented status and no response
that breaks its schema."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from .conftest import make_app
from .server import Server

#: Routes that serve the description itself, not the API.
NOT_API = {
    "/static/<path:filename>",
    "/openapi.json",
    "/apidoc/openapi.json",
    "/docs/",
    "/docs/<path:path>",
    "/app",  # the web page and its files (tests/test_browser.py)
    "/app/static/<path:filename>",
}
SCHEMATHESIS_CHECKS = "all"
#: What no schema can state, expected of schema-valid data on the calls it concerns: the
#: calls that look for faces answer media without a usable face (schemathesis sends
#: one-pixel PNGs) with 422 ``no_face``, ``no_usable_frame`` or ``enrollment_rejected``,
#: and bytes that are not media of the kind asked for with 415; a comparison of vectors
#: whose length no known model has needs ``model`` or ``threshold`` (422).
FACE_CALLS = "|".join(
    [
        "extract_embeddings_from_(image|video)",
        "v1/(identify|verify)",
        "v1/locks/[^/]+/unlock",
        "v1/subjects/[^/]+/(enrollments|faces/[^/]+)",
    ]
)
SCHEMATHESIS_CONFIG = f"""
# a body over FACEID_MAX_JSON_KB or FACEID_MAX_UPLOAD_MB is refused with 413
[checks.negative_data_rejection]
expected-statuses = [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429, "5xx"]

[[operations]]
include-path-regex = "^/({FACE_CALLS})$"
checks.positive_data_acceptance.expected-statuses = [
    "2xx", 401, 403, 404, 409, 415, 422, 429, "5xx"
]

[[operations]]
include-path = "/compare_embeddings"
checks.positive_data_acceptance.expected-statuses = ["2xx", 401, 409, 422, 429, "5xx"]
"""


def test_every_route_is_described_with_its_models():
    app = make_app()
    spec = app.test_client().get("/openapi.json").json
    described = {
        (re.sub(r"\{(\w+)\}", r"<\1>", path), method.upper())
        for path, operations in spec["paths"].items()
        for method in operations
    }
    routes = {
        (rule.rule, method)
        for rule in app.url_map.iter_rules()
        if rule.rule not in NOT_API
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }
    assert routes == described
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            ok = [s for s in operation["responses"] if s.startswith("2")]
            assert ok, (method, path)
            for status, response in operation["responses"].items():
                if (path, status) == ("/metrics", "200"):
                    continue  # Prometheus text, not JSON
                assert "$ref" in response["content"]["application/json"]["schema"], (path, status)
            if path.startswith("/v1/"):
                assert {"401", "403"} <= set(operation["responses"]), (method, path)
                assert operation["security"] == [{"bearer": []}, {"apiKey": []}]


def test_model_names_are_plain_for_generated_clients():
    spec = make_app().test_client().get("/openapi.json").json
    names = set(spec["components"]["schemas"])
    assert {"UnlockResult", "SubjectOut", "ErrorResponse", "CompareRequest"} <= names
    assert all(re.fullmatch(r"[A-Za-z0-9_]+", name) for name in names), names


def test_docs_page_works_offline():
    """Swagger UI ships inside a pip package: the page loads nothing from another host."""
    client = make_app().test_client()
    page = client.get("/docs/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/openapi.json" in html
    assert not re.search(r"""(src|href)=["']https?://""", html), "the page uses a CDN"
    scripts = re.findall(r"""src=["']([^"']+)["']""", html)
    assert scripts
    for src in scripts:
        r = client.get(src)
        assert r.status_code == 200 and len(r.data) > 1000, src


@pytest.mark.slow
def test_schemathesis_finds_nothing_against_a_live_server(tmp_path: Path):
    """Property-based requests from the description, with an admin key, against gunicorn."""
    cli = Path(sys.executable).with_name("schemathesis")
    if not cli.is_file():
        pytest.skip("schemathesis is not installed (make test installs it)")
    server = Server({"FACEID_DATA_DIR": str(tmp_path / "data")})
    (tmp_path / "schemathesis.toml").write_text(SCHEMATHESIS_CONFIG)  # read from its cwd
    server.start()
    try:
        key = server.key("fuzz", "admin")
        result = subprocess.run(
            [
                str(cli),
                "run",
                f"{server.base}/openapi.json",
                "--header",
                f"Authorization: Bearer {key}",
                "--checks",
                SCHEMATHESIS_CHECKS,
                "--phases",
                "examples,coverage,fuzzing",
                "--max-examples",
                "40",
                "--seed",
                "7",
                "--workers",
                "1",
                "--request-timeout",
                "60",
            ],
            capture_output=True,
            text=True,
            timeout=900,
            cwd=tmp_path,  # its config, and its crash cache out of the checkout
        )
        health = requests.get(server.base + "/health", timeout=5)
    finally:
        server.stop()
    summary = [line for line in result.stdout.splitlines() if re.search(r"\d+ generated", line)]
    print("\n".join(summary))
    assert result.returncode == 0, result.stdout[-6000:]
    assert health.status_code == 200
    assert summary and "failures" not in summary[-1]


def test_metrics_are_described_as_plain_text():
    spec = make_app().test_client().get("/openapi.json").json
    ok = spec["paths"]["/metrics"]["get"]["responses"]["200"]
    assert ok["content"] == {"text/plain": {"schema": {"type": "string"}}}


def test_a_method_a_route_lacks_is_405_with_allow():
    client = make_app().test_client()
    r = client.delete("/compare_embeddings")
    assert r.status_code == 405 and r.json["error"]["code"] == "method_not_allowed"
    assert "POST" in r.headers["Allow"] and r.content_type == "application/json"
