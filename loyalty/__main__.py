"""`python -m loyalty …`: the command line."""
from .cli import main

raise SystemExit(main())
