"""What every command gets: its arguments, where to print, and the API client (made on first use)."""

from __future__ import annotations

import argparse
import os
import sys
import urllib.parse
from typing import Any, TextIO

from .client import DEFAULT_MAX_ATTEMPTS, ApiClient, Response, is_loopback, region_of
from .errors import AuthError, Unreachable, UsageError
from .options import output_format
from .output import Output


class Context:
    def __init__(self, args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> None:
        self.args = args
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.output = Output(self.out, output_format(args), args.query, args.no_color)
        self.style = self.output.style
        self._client: ApiClient | None = None

    def emit(self, human: Any, data: Any) -> None:
        self.output.emit(human, data)

    def endpoint(self) -> str:
        if self.args.api:
            return self.args.api
        if os.environ.get("PROMOTER_API"):
            return os.environ["PROMOTER_API"]
        stack = self.args.stack or os.environ.get("PROMOTER_STACK")
        if stack:
            from .aws import AwsLookupError, stack_api_url

            try:
                return stack_api_url(stack, profile=self.args.profile, region=self.args.region)
            except AwsLookupError as error:
                raise Unreachable(str(error)) from error
        raise UsageError(
            "no API endpoint: pass --api URL, set PROMOTER_API, or name the deployed stack with --stack NAME "
            "(for the sandbox: --api http://127.0.0.1:8080)"
        )

    @property
    def client(self) -> ApiClient:
        if self._client is None:
            from .aws import AwsLookupError, credentials, default_region

            url = self.endpoint()
            if not url.startswith(("http://", "https://")):
                raise UsageError(f"the API URL must start with http:// or https://, not {url!r}")
            try:
                creds = credentials(self.args.profile)
                region = region_of(url, self.args.region or default_region(self.args.profile))
            except AwsLookupError as error:
                raise AuthError(str(error)) from error
            if creds is None and not is_loopback(url):
                raise AuthError(
                    "no AWS credentials found to sign the request (configure them as for the AWS CLI: "
                    "environment, --profile, SSO or an instance role)"
                )
            self._client = ApiClient(
                url,
                credentials=creds,
                region=region,
                timeout=self.args.http_timeout,
                max_attempts=self.args.max_attempts or _env_attempts(),
            )
        return self._client

    def location(self, response: Response) -> str | None:
        """The Location of a 202 as a URL (the API sends a path, with the stage behind API Gateway)."""
        location = response.headers.get("Location") or response.headers.get("location")
        return urllib.parse.urljoin(self.client.base_url + "/", location) if location else None


def _env_attempts() -> int:
    value = os.environ.get("AWS_MAX_ATTEMPTS", "")
    return int(value) if value.isdigit() and int(value) > 0 else DEFAULT_MAX_ATTEMPTS
