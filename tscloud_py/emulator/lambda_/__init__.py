"""lambda_."""
