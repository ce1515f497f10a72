"""Deadlines that fire: the index of open deadlines built from the store, and the scheduler
that turns due ones into commands."""
