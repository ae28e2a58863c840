"""The conversation engine: the turn loop, the caller, recorded calls, routing, tool mocks and templating."""
