"""Wire messages into application calls: the command table (commands.py) and the application of
upstream facts (upstream.py), shared by every entry point."""
