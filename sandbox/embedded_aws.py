"""moto's server on 127.0.0.1 as the sandbox's AWS account, on a free port."""

from __future__ import annotations

import logging
import urllib.parse
import urllib.request
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from sandbox.lambda_context import DEMO_ACCOUNT_ID, DEMO_REGION

# moto accepts any key; these make sure nothing the sandbox does can reach a real account.
DEMO_CREDENTIALS = {"aws_access_key_id": "sandbox", "aws_secret_access_key": "sandbox"}


class EmbeddedAws:
    def __init__(self) -> None:
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._endpoint: str | None = None

    @property
    def endpoint(self) -> str:
        if self._endpoint is None:
            raise RuntimeError("the embedded AWS is not running")
        return self._endpoint

    def start(self) -> str:
        # moto's werkzeug server logs every request and the traceback of every API it lacks;
        # the demo's terminal is for the user, and tunebot logs what failed in its own words.
        logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self._endpoint = f"http://{host}:{port}"
        # moto keeps its accounts in process-wide state that outlives a server: start empty.
        self.reset()
        return self._endpoint

    def reset(self) -> None:
        """Empty every service of the embedded account (moto's own reset endpoint)."""
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    def stop(self) -> None:
        if self._endpoint is not None:
            # Leave nothing behind for whatever else runs moto in this process.
            self.reset()
            self._server.stop()
            self._endpoint = None

    def fetch_code(self, location: str, max_bytes: int) -> bytes:
        """The zip behind a function's ``Code.Location``, from the embedded account.

        moto's locations name an S3 host that does not exist (``awslambda-<region>-tasks``);
        the key in the URL is the one moto filed the function's code under, and moto keeps
        that code in this process. The package scan then reads the real ELF headers of the
        zip that ``CreateFunction``/``UpdateFunctionCode`` received, as it would from AWS.
        """
        from moto.awslambda.models import lambda_backends

        from aws.package_scan import PackageTooLarge

        host = urllib.parse.urlsplit(location).netloc
        key = location.rsplit("/", 1)[-1]
        prefix, _, rest = host.partition("-")
        region = rest.split("-tasks.", 1)[0]
        if prefix != "awslambda" or not rest.startswith(f"{region}-tasks."):
            raise FileNotFoundError(f"not a location of the embedded AWS: {location[:80]}")
        backend = lambda_backends[DEMO_ACCOUNT_ID][region]
        for function in backend.list_functions():
            if function.code.get("S3Key") == key:
                data: bytes = function.code_bytes
                if len(data) > max_bytes:
                    raise PackageTooLarge(f"{len(data)} bytes")
                return data
        raise FileNotFoundError(f"the embedded AWS has no package at {location[:60]}")

    def client(self, service: str) -> Any:
        # The service name is dynamic, which boto3's typed overloads cannot express.
        make_client: Any = boto3.client
        return make_client(
            service,
            endpoint_url=self.endpoint,
            region_name=DEMO_REGION,
            aws_access_key_id=DEMO_CREDENTIALS["aws_access_key_id"],
            aws_secret_access_key=DEMO_CREDENTIALS["aws_secret_access_key"],
        )

    def environment(self) -> dict[str, str]:
        """What boto3 in the handlers needs to talk to this account and nothing else."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": DEMO_CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": DEMO_CREDENTIALS["aws_secret_access_key"],
            "AWS_DEFAULT_REGION": DEMO_REGION,
            "AWS_REGION": DEMO_REGION,
            # moto never throttles, and its 500s are APIs it lacks (not transient faults), so
            # retrying them only makes the demo wait.
            "AWS_MAX_ATTEMPTS": "1",
        }
