"""cloudfront."""
