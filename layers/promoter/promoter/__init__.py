"""lambda-promoter: all domain logic of the release control plane (the SAM layer)."""
