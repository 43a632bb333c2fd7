"""api_domain."""
