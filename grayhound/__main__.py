"""`python -m grayhound` runs the command line."""

from grayhound.cli import main

raise SystemExit(main())
