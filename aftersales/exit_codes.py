"""Exit codes that mean something, the same for every command."""

OK = 0
REFUSED = 1  # the domain refused a command (illegal transition, cap, self-approval…)
INVALID = 2  # the input is malformed or fails its schema (also usage errors)
NOT_FOUND = 3  # no such case or order
CONFLICT = 4  # concurrent change kept winning: try again
UNAVAILABLE = 5  # a database or broker could not be reached
DENIED = 6  # the principal may not do this (unknown or disabled principal, role, rule)
UNHEALTHY = 7  # `aftersales status`: the relay is stuck on an event the broker refuses
INTERNAL = 70  # a bug: the message names it; --verbose logs the traceback
