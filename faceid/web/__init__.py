"""The web layer: the factory, request parsing, OpenAPI, one blueprint module per concern.

original   /, /health, /ready, /extract_embeddings_from_*, /compare_embeddings
subjects   /v1/subjects: people, enrolments, faces
locks      /v1/locks, grants, /v1/audit
access     /v1/locks/{id}/unlock, /v1/identify, /v1/verify
keys       /v1/keys: create, list, revoke (admin)
monitoring /metrics (admin)
openapi    /openapi.json and /docs
"""

from .factory import create_app

__all__ = ["create_app"]
