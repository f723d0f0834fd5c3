"""The headless core: every piece of I/O and logic. It never imports textual (tests enforce it)."""
