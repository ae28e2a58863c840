"""Running test files: the loader, the runner, campaigns, sweeps and the executor."""
