"""Data files shipped with the package (the sample prompts of `triton-console chat`)."""
