"""aftersales_core."""
