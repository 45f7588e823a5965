"""S3: the artifacts bucket that stages zips over UpdateFunctionCode's 50 MB for the carry.

The object is written with the control plane's credentials and read by Lambda with the target's
(the target account's role, through the bucket policy); the bucket's lifecycle rule expires what
a crashed carry left behind after a day.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from .clients import LazyClient


class StagingAdapter(LazyClient):
    service = "s3"

    def put(self, bucket: str, key: str, body: bytes, sha256: str) -> None:
        """One object; ``sha256`` (base64, as Lambda's CodeSha256) lets S3 check what it received."""
        self.client.put_object(Bucket=bucket, Key=key, Body=body, ChecksumSHA256=sha256)

    def delete(self, bucket: str, key: str) -> bool:
        """Best effort: the lifecycle rule removes the object anyway."""
        try:
            self.client.delete_object(Bucket=bucket, Key=key)
        except ClientError:
            return False
        return True
