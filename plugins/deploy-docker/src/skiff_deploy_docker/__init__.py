"""Skiff's Docker images for models and the ``docker`` deployment target."""
