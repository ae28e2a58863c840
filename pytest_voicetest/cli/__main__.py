"""`python -m pytest_voicetest.cli`."""

from .main import main

raise SystemExit(main())
