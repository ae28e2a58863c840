"""Pydantic models: the agent graph IR, test cases, results and scenario campaigns."""
