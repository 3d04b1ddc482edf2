"""A legitimate login's latency while junk logins flood the service from other addresses.

    python -m benchmarks.login_flood [--junk-addresses N] [--junk-rate R] [--json PATH]

What it runs: ``tokenbench serve`` (granian, one worker) on a throw-away SQLite file and key directory with
the service's defaults -- argon2id t=3, m=64 MiB, p=1, the login limits and the argon2 queue as shipped --
and one user created by ``tokenbench users create``. Then:

1. **alone**: the user logs in ``alone_samples`` times, one login every ``sample_interval_s``;
2. **under flood**: a second process opens a new connection for each junk login, ``junk_rate`` per second
   on a fixed schedule (open loop: a slow answer does not slow the attacker down), each from one of
   ``junk_addresses`` source addresses, each for a new, unknown user name (password spraying); meanwhile
   the user logs in as in step 1 (the next login starts when the last one ended if that was later), every
   login that starts while the junk is being sent counts.

Every login of the user comes from its own loopback address, and every junk login from one of its own:
all of ``127.0.0.0/8`` is local on Linux, so binding the client socket to ``127.x.y.z`` gives the server
distinct peer addresses without any network set-up. The user's latency is what the user sees: the time
until the ``200``, including the wait and the retry when the service answered ``503`` (``Retry-After``).

The result is the ratio of the medians (and of the p99s) under flood and alone; the target is 2x.
``--smoke`` runs every step for a few seconds (the test suite runs it once); its numbers mean nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import itertools
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

from benchmarks.servers import HOST, create_user, serve_service, service_env
from formats import FormatName
from formats.keys import generate_key_file

__all__ = ["PLANS", "FloodPlan", "FloodResult", "main", "run_flood"]

USERNAME: Final = "bench"
TARGET_RATIO: Final = 2.0


@dataclass(frozen=True, slots=True)
class FloodPlan:
    """How long and how hard."""

    mode: str
    alone_samples: int
    flood_s: float
    junk_rate: float  # junk logins per second
    junk_addresses: int
    sample_interval_s: float = 0.5


PLANS: Final = {
    "full": FloodPlan("full", alone_samples=20, flood_s=40, junk_rate=50, junk_addresses=10),
    "smoke": FloodPlan("smoke", alone_samples=3, flood_s=2, junk_rate=50, junk_addresses=2),
}


@dataclass(frozen=True, slots=True)
class Sample:
    """One login of the user: seconds from the phase's start, latency until the 200, 503s on the way."""

    at_s: float
    latency_ms: float
    retries: int


@dataclass(frozen=True, slots=True)
class Phase:
    """The user's logins in one phase."""

    samples: tuple[Sample, ...]

    @property
    def median_ms(self) -> float:
        """Median latency."""
        return statistics.median(s.latency_ms for s in self.samples)

    @property
    def p99_ms(self) -> float:
        """99th percentile latency (nearest rank)."""
        ordered = sorted(s.latency_ms for s in self.samples)
        return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]

    @property
    def retries(self) -> int:
        """How many 503 answers the user got (each followed by a wait and a retry)."""
        return sum(s.retries for s in self.samples)


@dataclass(frozen=True, slots=True)
class FloodResult:
    """Both phases, the junk's answers, and how the machine was."""

    plan: FloodPlan
    alone: Phase
    flood: Phase
    junk_statuses: dict[str, int]
    junk_sent: int
    cores: int
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]

    @property
    def median_ratio(self) -> float:
        """Median under flood / median alone."""
        return self.flood.median_ms / self.alone.median_ms

    @property
    def p99_ratio(self) -> float:
        """p99 under flood / p99 alone."""
        return self.flood.p99_ms / self.alone.p99_ms

    def to_json(self) -> dict[str, Any]:
        """Everything, plus the summary figures, as JSON-ready data."""
        return {
            **asdict(self),
            "alone_median_ms": self.alone.median_ms,
            "alone_p99_ms": self.alone.p99_ms,
            "flood_median_ms": self.flood.median_ms,
            "flood_p99_ms": self.flood.p99_ms,
            "flood_retries": self.flood.retries,
            "median_ratio": self.median_ratio,
            "p99_ratio": self.p99_ratio,
        }

    def table(self) -> str:
        """The result as a few aligned lines."""
        plan = self.plan
        verdict = "yes" if max(self.median_ratio, self.p99_ratio) <= TARGET_RATIO else "no"
        junk = ", ".join(f"{status} x{count}" for status, count in sorted(self.junk_statuses.items()))
        return "\n".join(
            [
                f"login alone:        median {self.alone.median_ms:7.1f} ms   p99 {self.alone.p99_ms:7.1f} ms"
                f"   ({len(self.alone.samples)} logins)",
                f"login under flood:  median {self.flood.median_ms:7.1f} ms   p99 {self.flood.p99_ms:7.1f} ms"
                f"   ({len(self.flood.samples)} logins, {self.flood.retries} answered 503 first)",
                f"flood / alone:      median {self.median_ratio:7.2f} x    p99 {self.p99_ratio:7.2f} x"
                f"    (within {TARGET_RATIO:g}x: {verdict})",
                f"junk: {self.junk_sent} logins in {plan.flood_s:g} s ({plan.junk_rate:g}/s) from "
                f"{plan.junk_addresses} addresses, answered {junk}",
                f"machine: {self.cores} cores, load {self.load_before[0]:.2f} before, "
                f"{self.load_after[0]:.2f} after",
            ]
        )


def _addresses(second_octet: int) -> Iterator[str]:
    """Loopback addresses ``127.<second_octet>.y.z``, z from 1 to 254."""
    for third in range(256):
        for fourth in range(1, 255):
            yield f"127.{second_octet}.{third}.{fourth}"


def _login_body(username: str, password: str) -> bytes:
    return json.dumps({"username": username, "password": password}).encode()


def _user_login(port: int, address: str, body: bytes, started: float) -> Sample:
    """Log the user in from ``address`` until a 200, waiting ``Retry-After`` after each 503."""
    began = time.perf_counter()
    retries = 0
    while True:
        conn = http.client.HTTPConnection(HOST, port, timeout=120, source_address=(address, 0))
        try:
            conn.request("POST", "/auth/login", body=body, headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
        finally:
            conn.close()
        if response.status == 200:
            return Sample(began - started, (time.perf_counter() - began) * 1000, retries)
        if response.status != 503:
            raise RuntimeError(f"the user's login from {address} answered {response.status}")
        retries += 1
        time.sleep(int(response.headers.get("Retry-After", "1")))


def _phase(
    port: int, body: bytes, addresses: Iterator[str], *, interval: float, count: int = 0, seconds: float = 0
) -> Phase:
    """The user's logins, one starting every ``interval`` seconds (or when the last one ended): ``count``
    of them, or as many as start within ``seconds``."""
    started = time.perf_counter()
    samples: list[Sample] = []
    for i in itertools.count():
        if (count and i >= count) or (seconds and time.perf_counter() - started >= seconds):
            break
        time.sleep(max(0.0, started + i * interval - time.perf_counter()))
        samples.append(_user_login(port, next(addresses), body, started))
    return Phase(tuple(samples))


# --- the junk sender (its own process) -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JunkSpec:
    """What the junk process sends."""

    port: int
    rate: float
    duration: float
    addresses: int


async def _junk_login(port: int, address: str, body: bytes) -> str:
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(HOST, port, local_addr=(address, 0)), timeout=30
        )
    except (OSError, TimeoutError) as exc:
        return f"connect {type(exc).__name__}"
    try:
        head = (
            f"POST /auth/login HTTP/1.1\r\nHost: {HOST}:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        writer.write(head.encode() + body)
        answer = await asyncio.wait_for(reader.read(), timeout=120)
        return answer[9:12].decode() if answer.startswith(b"HTTP/1.1 ") else "no answer"
    except (OSError, TimeoutError) as exc:
        return type(exc).__name__
    finally:
        writer.close()


async def _junk(spec: JunkSpec) -> dict[str, int]:
    addresses = list(zip(range(spec.addresses), _addresses(1), strict=False))
    tasks = []
    started = time.perf_counter()
    for i in range(round(spec.rate * spec.duration)):
        await asyncio.sleep(max(0.0, started + i / spec.rate - time.perf_counter()))
        _, address = addresses[i % len(addresses)]
        body = _login_body(f"junk-{i}-{secrets.token_hex(3)}", "Winter2026!")
        tasks.append(asyncio.create_task(_junk_login(spec.port, address, body)))
    return dict(Counter(await asyncio.gather(*tasks)))


def _start_junk(spec: JunkSpec) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "benchmarks.login_flood", "--junk-spec", json.dumps(asdict(spec))],
        stdout=subprocess.PIPE,
        text=True,
    )


# --- the run ---------------------------------------------------------------------------------------------


def run_flood(plan: FloodPlan, *, log: Path | None = None) -> FloodResult:
    """Start the service, measure both phases, stop it."""
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="tokenbench-flood-") as tmp:
        workdir = Path(tmp)
        # The service's defaults: login limits and the argon2 queue as shipped.
        env = service_env(
            workdir, database="flood.db", login_limits=True, format=FormatName.PASETO_V4_PUBLIC.value
        )
        generate_key_file(workdir / "keys", FormatName.PASETO_V4_PUBLIC)
        password = secrets.token_urlsafe(18)
        create_user(env, USERNAME, password)
        body = _login_body(USERNAME, password)
        user_addresses = _addresses(2)
        with serve_service(env, log or workdir / "serve.log") as server:
            port = server.port
            alone = _phase(
                port, body, user_addresses, count=plan.alone_samples, interval=plan.sample_interval_s
            )
            junk = _start_junk(JunkSpec(port, plan.junk_rate, plan.flood_s, plan.junk_addresses))
            flood = _phase(port, body, user_addresses, seconds=plan.flood_s, interval=plan.sample_interval_s)
            out, _ = junk.communicate(timeout=plan.flood_s + 300)
            if junk.returncode != 0:
                raise RuntimeError(f"the junk sender exited with {junk.returncode}")
    statuses: dict[str, int] = json.loads(out)
    return FloodResult(
        plan=plan,
        alone=alone,
        flood=flood,
        junk_statuses=statuses,
        junk_sent=sum(statuses.values()),
        cores=os.cpu_count() or 0,
        load_before=load_before,
        load_after=os.getloadavg(),
    )


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.login_flood``: run, print the table, optionally write the JSON."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.login_flood", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--junk-addresses", type=int, help="source addresses of the junk (default 10)")
    parser.add_argument("--junk-rate", type=float, help="junk logins per second (default 50)")
    parser.add_argument("--flood-seconds", type=float, help="how long the flood lasts (default 40)")
    parser.add_argument("--json", type=Path, help="write the raw result here")
    parser.add_argument(
        "--smoke", action="store_true", help="every step, a few seconds; numbers mean nothing"
    )
    parser.add_argument("--junk-spec", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.junk_spec:
        print(json.dumps(asyncio.run(_junk(JunkSpec(**json.loads(args.junk_spec))))))
        return 0
    plan = PLANS["smoke" if args.smoke else "full"]
    changes = {
        "junk_addresses": args.junk_addresses,
        "junk_rate": args.junk_rate,
        "flood_s": args.flood_seconds,
    }
    plan = FloodPlan(**{**asdict(plan), **{k: v for k, v in changes.items() if v is not None}})
    result = run_flood(plan)
    print(result.table())
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result.to_json(), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
