"""A small closed-loop HTTP/1.1 load generator, for when wrk is not installed (and --smoke).

Run as its own process: `python -m bench.loadgen URL TOKEN CONNECTIONS SECONDS TIMEOUT SEED`.
Each connection keeps one request in flight with keep-alive, like wrk; it prints one
`BENCH_JSON {...}` line with the same fields as bench/claims.lua.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import Counter
from urllib.parse import urlsplit

from bench.data import write_bodies


class Stats:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.statuses: Counter[int] = Counter()
        self.socket_errors = self.timeouts = self.no_retry_after = 0


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes
) -> tuple[int, dict[str, str]]:
    writer.write(request)
    await writer.drain()
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in head[1:] if ": " in line)
    headers = {k.lower(): v for k, v in headers.items()}
    await reader.readexactly(int(headers.get("content-length", "0")))
    return int(head[0].split()[1]), headers


async def _connection(
    url: str, token: str, seed: int, until: float, timeout: float, stats: Stats
) -> None:
    parts = urlsplit(url)
    bodies = write_bodies(seed, 10**9)
    auth = f"Authorization: Bearer {token}\r\n" if token != "-" else ""
    reader = writer = None
    while time.monotonic() < until:
        body = json.dumps(next(bodies)).encode()
        request = (
            f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n{auth}"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        started = time.monotonic()
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
            assert reader is not None
            status, headers = await asyncio.wait_for(_exchange(reader, writer, request), timeout)
        except TimeoutError:
            stats.timeouts += 1
            _close(writer)
            writer = None
            continue
        except (OSError, asyncio.IncompleteReadError, ValueError):
            stats.socket_errors += 1
            _close(writer)
            writer = None
            await asyncio.sleep(0.01)
            continue
        stats.latencies.append(time.monotonic() - started)
        stats.statuses[status] += 1
        stats.no_retry_after += status == 503 and "retry-after" not in headers
    _close(writer)


def _close(writer: asyncio.StreamWriter | None) -> None:
    if writer is not None:
        writer.close()


def _percentile(values: list[float], share: float) -> int:
    if not values:
        return 0
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1e6)


async def run(
    url: str, token: str, connections: int, seconds: float, timeout: float, seed: int
) -> dict[str, object]:
    stats = Stats()
    started = time.monotonic()
    until = started + seconds
    await asyncio.gather(
        *(
            _connection(url, token, seed * 1000 + n, until, timeout, stats)
            for n in range(connections)
        )
    )
    lat = stats.latencies
    return {
        "requests": len(lat),
        "duration_us": round((time.monotonic() - started) * 1e6),
        **{f"p{p}_us": _percentile(lat, p / 100) for p in (50, 90, 99)},
        "max_us": round(max(lat, default=0) * 1e6),
        "socket_errors": stats.socket_errors,
        "timeouts": stats.timeouts,
        "statuses": {str(k): v for k, v in stats.statuses.items()},
        "no_retry_after": stats.no_retry_after,
    }


def main() -> None:
    url, token, connections, seconds, timeout, seed = sys.argv[1:7]
    result = asyncio.run(
        run(url, token, int(connections), float(seconds), float(timeout), int(seed))
    )
    print("BENCH_JSON " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
