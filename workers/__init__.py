"""What every long-running worker of `aftersales run` shares: the error policy."""
