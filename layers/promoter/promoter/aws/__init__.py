"""The only place boto3 is used. Every adapter takes an injected client, created lazily."""
