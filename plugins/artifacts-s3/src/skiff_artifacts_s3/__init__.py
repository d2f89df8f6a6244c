"""Skiff's s3:// artifact repository (boto3)."""
