"""Application services: load, decide with policies, save events and decisions together."""
