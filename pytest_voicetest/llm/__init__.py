"""Model access: the client (litellm, lazy), the in-process scripted provider, cassettes and the budget."""
