"""Entry points and wiring: settings, the composition root, the CLI."""
