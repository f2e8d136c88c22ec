"""Live audit: read-only collectors that fetch federation configuration from the clouds.

A collector returns `Collected`: files in the very shapes `xfedlint scan` reads (the CLI outputs the
loaders know), so `audit` is `scan` over what was collected, and `audit --export DIR` followed by
`scan DIR` reports the same findings. Each cloud SDK is imported inside its collector, and every client is
read-only by construction: an allowlist of operations is enforced before any request leaves.
"""

from __future__ import annotations

import json

import msgspec


class ReadOnlyViolation(Exception):
    """An operation outside the read-only allowlist was attempted; no request was sent."""


class MissingExtra(Exception):
    """The SDK a collector needs is not installed: the message names the extra to install."""


class NoCredentials(Exception):
    """No credentials were found: the message names what was looked for."""


class Collected(msgspec.Struct):
    """What one cloud gave: files (relative path -> text), what could not be read and why, API calls made."""

    cloud: str
    files: dict = msgspec.field(default_factory=dict)
    not_evaluated: list = msgspec.field(default_factory=list)  # (what, why)
    calls: int = 0


def to_json(data) -> str:
    """A collected file's text: stable (sorted keys, so positions do not move between runs) and readable;
    dates, which boto3 returns as datetime objects, as their text."""
    return json.dumps(data, indent=2, sort_keys=True, default=str) + "\n"

