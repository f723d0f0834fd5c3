"""One module per place; each defines SCREEN."""
