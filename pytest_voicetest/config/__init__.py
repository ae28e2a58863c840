"""Settings files, the environment and option/model precedence: one resolver for every door."""
