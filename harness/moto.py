"""moto, standing in for S3: a real server on a free loopback port, with buckets made for the run."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3

from store.demo import moto_server

from . import free_port


@dataclass
class Moto:
    """A moto server: S3 on loopback, with the credentials and region the tests' locations use."""

    endpoint: str
    buckets: tuple[str, ...]
    access_key_id: str = "testing"
    secret_access_key: str = "testing"
    region: str = "us-east-1"

    def client(self) -> Any:
        return boto3.client(
            "s3", endpoint_url=self.endpoint, region_name=self.region,
            aws_access_key_id=self.access_key_id, aws_secret_access_key=self.secret_access_key,
        )

    def settings(self) -> dict[str, str]:
        """The settings of an s3 location on this server."""
        return {"endpoint_url": self.endpoint, "region": self.region, "access_key_id": self.access_key_id,
                "secret_access_key": self.secret_access_key}


@contextlib.contextmanager
def run_moto(buckets: tuple[str, ...] = ()) -> Iterator[Moto]:
    """`moto_server` on a free loopback port, with `buckets` made, stopped at the end."""
    port = free_port()
    with moto_server(port) as trouble:
        if trouble:
            raise RuntimeError(trouble)
        moto = Moto(f"http://127.0.0.1:{port}", buckets)
        for bucket in buckets:
            moto.client().create_bucket(Bucket=bucket)
        yield moto
