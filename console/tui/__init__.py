"""The Textual app: thin screens over the headless core (console.core)."""
