"""Tamper evidence over the store: the hash chain, its checkpoints, verification and
decision re-runs."""
