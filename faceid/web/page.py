"""``GET /app``: the web page that enrols and unlocks with the webcam (plain HTML and
JavaScript shipped in the package: no build step, nothing from another host).

The page talks to the same ``/v1`` API as any client, with the key a person pastes in
(kept in the tab's ``sessionStorage`` only). Its Content-Security-Policy allows scripts,
styles and requests from this origin only, and media from the camera (``blob:``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Response, send_from_directory

STATIC = Path(__file__).parent / "static" / "app"

bp = Blueprint("page", __name__, static_folder=str(STATIC), static_url_path="/app/static")

#: What the page may load and where it may send: its own origin only.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)


@bp.get("/app")
def app_page() -> Any:
    """The page itself."""
    response: Response = send_from_directory(STATIC, "index.html", max_age=0)
    return response


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Permissions-Policy"] = "camera=(self), microphone=()"
    return response
