"""Thin per-service AWS clients. The only package that imports boto3."""
