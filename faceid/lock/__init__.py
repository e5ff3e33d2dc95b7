"""The lock: keys and scopes, lookups inside an organisation, enrolment, access
decisions (unlock, identify, verify) and the in-memory gallery index. Free of Flask.
Where a live challenge is required is decided in :mod:`.policy`; every door call, frames,
video or challenge clip, is decided by :func:`.verdicts.visit`."""
