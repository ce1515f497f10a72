"""Aggregates of the after-sales domain: Order facts, customers and the three case types."""
