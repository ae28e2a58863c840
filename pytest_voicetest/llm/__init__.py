"""Model access: the litellm client, the scripted provider, cassettes, model precedence."""
