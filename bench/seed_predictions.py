#!/usr/bin/python3
"""Seed an API.md server with one far-future event and N predictions; write their ids, one a line.

Works against the reference (bench/reference/app.py) and truthbook alike. Standard library only.
Usage: seed_predictions.py --base-url http://127.0.0.1:8000 --count 100000 --out ids.txt
"""

import argparse
import json
import sys
import time
import urllib.error
import urllib.request

EVENT = {"event_id": "bench-2030-01-01-aaa-bbb", "sport": "NBA", "league": "NBA",
         "season": "2029-30", "home_team": "BBB", "away_team": "AAA",
         "start_time": "2030-01-01T00:30:00Z", "status": "scheduled"}


def post(base_url: str, path: str, body: dict, timeout: float) -> dict:
    req = urllib.request.Request(f"{base_url}/api/calibration/{path}", method="POST",
                                 data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return json.load(resp)
    except urllib.error.HTTPError as e:
        sys.exit(f"POST {path} -> {e.code}: {e.read().decode(errors='replace')[:500]}")


def sim_run(seed: int, n: int) -> dict:
    prediction = {"event_id": EVENT["event_id"], "market": "moneyline", "selection": "home",
                  "price": {"american": -110}, "book": "pinnacle", "raw_prob": 0.55,
                  "tier": "A", "stake_units": 1.0}
    return {"trigger": "scheduled", "model_version": "bench-1", "feature_set_version": "bench-1",
            "decision_policy_version": "bench-1",
            "code_version": {"git_sha": "0000000", "dirty": False},
            "n_sims": 1000, "rng_seed": seed,
            "started_at": "2026-11-26T18:00:00.000Z", "finished_at": "2026-11-26T18:00:01.000Z",
            "inputs": [], "predictions": [prediction] * n}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--base-url", required=True)
    ap.add_argument("--count", type=int, required=True, help="number of predictions")
    ap.add_argument("--batch", type=int, default=2000, help="predictions per sim run")
    ap.add_argument("--out", required=True, help="file for the prediction ids")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds per request")
    args = ap.parse_args()
    base_url = args.base_url.rstrip("/")

    t0 = time.monotonic()
    post(base_url, "events", EVENT, args.timeout)
    written = 0
    with open(args.out, "w") as out:
        while written < args.count:
            n = min(args.batch, args.count - written)
            ids = post(base_url, "sim-runs", sim_run(written, n), args.timeout)["prediction_ids"]
            if len(ids) != n:
                sys.exit(f"sim-runs returned {len(ids)} prediction ids, expected {n}")
            out.write("\n".join(ids) + "\n")
            written += n
    print(f"seeded {written} predictions in {time.monotonic() - t0:.1f}s -> {args.out}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
