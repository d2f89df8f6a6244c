"""Skiff's gs:// artifact repository (google-cloud-storage)."""
