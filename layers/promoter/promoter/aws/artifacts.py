"""Lambda: carry one code artifact from a function version to another function.

A zip is fetched from the short-lived URL that GetFunction gives (``Code.Location``) and uploaded
with UpdateFunctionCode: in the request up to 50 MB, through an S3 object above that (Lambda's
documented path for larger zips, https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html);
an image function gets the source's image by digest. The caller then publishes with the
CodeSha256 precondition (``LambdaAdapter.publish_version``).
"""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

from botocore.exceptions import ClientError

from ..errors import InvalidRequest
from .clients import LazyClient
from .errors import code_of

# UpdateFunctionCode takes at most 50 MB of zip in the request (AWS counts the request: "Request must
# be smaller than 69905067 bytes", the base64 of 50 MiB); larger zips go through S3. 50 MB decimal
# leaves room for the rest of the request.
MAX_DIRECT_UPLOAD = 50 * 1000 * 1000
# Lambda's own limit: 250 MB unzipped (with layers), so no zip that runs on Lambda is larger.
MAX_CODE_SIZE = 250 * 1024 * 1024
DOWNLOAD_TIMEOUT = 60


class ArtifactsAdapter(LazyClient):
    service = "lambda"

    def version_code(self, function: str, version: str) -> dict[str, Any]:
        """GetFunction of one version: ``Configuration`` and ``Code`` (Location or ImageUri)."""
        try:
            code: dict[str, Any] = self.client.get_function(FunctionName=function, Qualifier=version)
            return code
        except ClientError as error:
            if code_of(error) == "ResourceNotFoundException":
                raise InvalidRequest(f"version {version} of {function!r} does not exist", field="version") from error
            raise

    @staticmethod
    def download(location: str, expected_size: int | None = None) -> bytes:
        """The zip behind GetFunction's pre-signed ``Code.Location`` (no AWS credentials needed)."""
        if not location.startswith(("https://", "http://")):
            raise InvalidRequest(f"cannot fetch the code from {location!r}", field="version")
        try:
            with urllib.request.urlopen(location, timeout=DOWNLOAD_TIMEOUT) as answer:  # noqa: S310 - http(s) only
                body: bytes = answer.read(MAX_CODE_SIZE + 1)
        except urllib.error.URLError as error:
            raise InvalidRequest(f"could not download the source code: {error.reason}", field="version") from error
        if len(body) > MAX_CODE_SIZE:
            raise InvalidRequest(
                f"the zip is larger than {MAX_CODE_SIZE} bytes, Lambda's own limit (250 MB unzipped)", field="version"
            )
        if expected_size is not None and len(body) != expected_size:
            raise InvalidRequest(
                f"downloaded {len(body)} bytes of code, GetFunction said {expected_size}", field="version"
            )
        return body

    def update_code(
        self,
        function: str,
        *,
        zip_file: bytes | None = None,
        image_uri: str | None = None,
        s3_object: tuple[str, str] | None = None,
        revision_id: str | None = None,
    ) -> dict[str, Any]:
        """UpdateFunctionCode with a zip, an S3 object (bucket, key) or an image; ``revision_id``
        guards against a concurrent change."""
        kwargs: dict[str, Any] = {"FunctionName": function}
        if zip_file is not None:
            kwargs["ZipFile"] = zip_file
        elif s3_object is not None:
            kwargs["S3Bucket"], kwargs["S3Key"] = s3_object
        else:
            kwargs["ImageUri"] = image_uri
        if revision_id:
            kwargs["RevisionId"] = revision_id
        try:
            updated: dict[str, Any] = self.client.update_function_code(**kwargs)
            return updated
        except ClientError as error:
            if code_of(error) == "PreconditionFailedException":
                raise InvalidRequest(
                    f"{function!r} changed while its code was being replaced; try again", field="to"
                ) from error
            raise

    def layer_content(self, layer_version_arn: str) -> str | None:
        """The layer version's CodeSha256, or None when this account cannot read it."""
        layer_arn, _, number = layer_version_arn.rpartition(":")
        try:
            answer = self.client.get_layer_version(LayerName=layer_arn, VersionNumber=int(number))
        except ClientError as error:
            if code_of(error) in {"AccessDeniedException", "AccessDenied", "ResourceNotFoundException"}:
                return None
            raise
        return (answer.get("Content") or {}).get("CodeSha256")
