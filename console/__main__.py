"""`python -m console` is the same as the `triton-console` script."""

from console.cli import main

raise SystemExit(main())
