"""Shared by the steps: the tracking library (Skiff, else MLflow)."""

try:
    import skiff as mlflow
    from skiff.tracking.client import Client
except ImportError:
    import mlflow
    from mlflow.tracking import MlflowClient as Client

__all__ = ["mlflow", "Client"]
