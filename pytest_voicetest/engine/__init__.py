"""The conversation engine: the turn loop, routing, tool mocks and templating."""
