"""The ``promoter`` command: SigV4-signed calls to the lambda-promoter API, and a live watch."""
