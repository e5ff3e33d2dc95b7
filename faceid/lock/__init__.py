"""The lock: keys and scopes, lookups inside an organisation, enrolment, access
decisions (unlock, identify, verify) and the in-memory gallery index. Free of Flask."""
