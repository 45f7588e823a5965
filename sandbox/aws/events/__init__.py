"""EventBridge: delivery to targets, SNS topics among them, and reserved sources."""
