"""Model access: the client (litellm, lazy), the in-process scripted provider, cassettes and the budget."""

# pydantic's warning about litellm's own TypedDicts, raised while litellm loads lazily
# (possibly in a background thread while some test runs): filtered wherever litellm loads.
LITELLM_NOISE = r"Items? .* on TypedDict class .* (are|is) using the `ReadOnly` qualifier"
