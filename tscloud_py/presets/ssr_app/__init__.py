"""ssr_app."""
