"""Demonstrations of the whole product through its public interfaces."""
