"""Skiff's file tracking store: MLflow's ``./mlruns`` layout."""
