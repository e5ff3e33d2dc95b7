"""Research and evaluation: accuracy on pair lists, verification studies over identities,
the impostor tail behind the levels, LFW's protocol. Nothing a request needs."""
