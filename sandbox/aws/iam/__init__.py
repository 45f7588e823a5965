"""IAM and STS: who is calling (identity), and what they may do (policy)."""
