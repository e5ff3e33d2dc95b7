"""The web page's files: served with a strict policy, nothing from another host, every
control labelled (the browser test, tests/test_browser.py, drives it for real)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from .conftest import make_app


class Controls(HTMLParser):
    """Form controls, labels and every URL the page names."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict[str, str | None]] = []
        self.labelled: set[str] = set()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in ("input", "select", "textarea"):
            self.controls.append(values)
        if tag == "label" and values.get("for"):
            self.labelled.add(str(values["for"]))
        self.urls += [str(values[k]) for k in ("src", "href") if values.get(k)]


def test_page_is_served_with_its_files_and_a_strict_policy():
    client = make_app().test_client()
    page = client.get("/app")
    assert page.status_code == 200 and page.content_type.startswith("text/html")
    policy = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "connect-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    parser = Controls()
    parser.feed(page.get_data(as_text=True))
    for url in parser.urls:
        assert url.startswith(("/app/static/", "#")), url  # no CDN, no other host
        if url.startswith("/"):
            assert client.get(url).status_code == 200, url
    assert client.get("/app/static/missing.js").status_code == 404


def test_every_control_has_a_label_and_the_key_stays_in_the_tab():
    client = make_app().test_client()
    parser = Controls()
    parser.feed(client.get("/app").get_data(as_text=True))
    assert parser.controls
    for control in parser.controls:
        assert control.get("id") in parser.labelled or control.get("aria-label"), control
    script = client.get("/app/static/app.js").get_data(as_text=True)
    assert "sessionStorage" in script and "localStorage" not in script
    assert not re.search(r"https?://", script), "the script calls another host"
