"""The Python tracking API: ``Client`` (alias ``MlflowClient``) and the fluent functions."""
