"""Skiff's SageMaker deployment target (``-t sagemaker:/<region>``)."""
