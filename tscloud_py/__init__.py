"""tscloud: deploy real applications to AWS with boto3, step by step, with state that survives a crash."""

__version__ = "0.1.0"
