"""Skiff's wasbs:// and abfss:// artifact repositories (azure-storage-blob)."""
