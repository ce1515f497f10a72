"""The published policy: the customer-facing after-sales policy written from a policy book, so
that what is published is what the engine enforces."""

from aftersales_core.policybook.publish.compose import LANGUAGES, publish

__all__ = ["LANGUAGES", "publish"]
