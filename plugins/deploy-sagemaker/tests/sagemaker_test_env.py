"""Constants shared by the sagemaker tests (a module name no other test folder uses)."""

ROLE = "arn:aws:iam::123456789012:role/sagemaker-execution"
REGION = "us-east-1"
