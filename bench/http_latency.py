#!/usr/bin/python3
"""Time GET requests over one keep-alive HTTP connection.

  http_latency.py BASE_URL COUNT PATH [PATH...]

For each PATH (relative to BASE_URL), sends one warm-up request, then COUNT requests one after
another, and prints a markdown row: path, status, response bytes, p50, p99 and max latency in
milliseconds (wall time from sending to the last byte read). Standard library only.
"""

import http.client
import statistics
import sys
import time
import urllib.parse


def main() -> None:
    base, count, paths = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    url = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=600)
    print("| path | status | bytes | p50 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|---|")
    for path in paths:
        target = url.path + "/" + urllib.parse.quote(path, safe="/?=&|:")
        times = []
        for i in range(count + 1):
            start = time.perf_counter()
            conn.request("GET", target)
            resp = conn.getresponse()
            body = resp.read()
            if i > 0:
                times.append((time.perf_counter() - start) * 1000)
        times.sort()
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
        print(f"| `{path}` | {resp.status} | {len(body)} | {statistics.median(times):.2f} | "
              f"{p99:.2f} | {times[-1]:.2f} |", flush=True)


if __name__ == "__main__":
    main()
