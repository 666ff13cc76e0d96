#!/usr/bin/python3
"""Seed a truthbook server for the grade-all-pending benchmark, over HTTP.

  seed_grading.py --base-url URL --events E --per-event K --out ids.txt   (before publishing)
  seed_grading.py --base-url URL --events E --results                     (after publishing)

The first call posts E events (starting 2030-01-01), two odds snapshots per event and market
(an early one and the closing one, both before the start), and K predictions per event spread
over moneyline, spread (with quarter lines), total and moneyline_3way picks, half of them with
a calibrated probability. It writes the prediction ids, one a line. The second call posts a
final score for every event. Scores and picks come from a fixed-seed generator, so every run
grades the same mix. Standard library only.
"""

import argparse
import json
import random
import sys
import time
import urllib.error
import urllib.request


def post(base_url: str, path: str, body: dict) -> dict:
    req = urllib.request.Request(f"{base_url}/api/calibration/{path}", method="POST",
                                 data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=300) as resp:
            return json.load(resp)
    except urllib.error.HTTPError as e:
        sys.exit(f"POST {path} -> {e.code}: {e.read().decode(errors='replace')[:500]}")


def event_id(i: int) -> str:
    return f"grade-bench-{i:06d}"


# (market, selection, line) picks and the two-sided markets they are quoted in.
MARKETS = {
    "moneyline": [("home", None), ("away", None)],
    "spread": [("home", -0.25), ("away", 0.25), ("home", -1.5), ("away", 1.5)],
    "total": [("over", 2.5), ("under", 2.5), ("over", 2.75), ("under", 2.75), ("over", 3.0),
              ("under", 3.0)],
    "moneyline_3way": [("home", None), ("draw", None), ("away", None)],
}


def snapshot(eid: str, market: str, captured_at: str, rng: random.Random) -> dict:
    quotes = [{"selection": s, "line": line, "price": {"decimal": round(rng.uniform(1.7, 2.3), 3)}}
              for s, line in MARKETS[market]]
    if market == "moneyline_3way":
        for q in quotes:
            q["price"]["decimal"] = round(rng.uniform(2.5, 4.0), 3)
    return {"event_id": eid, "book": "pinnacle", "market": market, "captured_at": captured_at,
            "quotes": quotes, "raw": {"bench": True}}


def seed_picks(args, rng: random.Random) -> None:
    t0 = time.monotonic()
    written = 0
    with open(args.out, "w") as out:
        for i in range(args.events):
            eid = event_id(i)
            post(args.base_url, "events", {
                "event_id": eid, "sport": "SOCCER", "league": "EPL", "season": "2029-30",
                "home_team": f"H{i}", "away_team": f"A{i}", "start_time": "2030-01-01T15:00:00Z",
                "status": "scheduled"})
            for market in MARKETS:
                post(args.base_url, "capture-snapshot",
                     snapshot(eid, market, "2029-12-31T12:00:00Z", rng))
                post(args.base_url, "capture-snapshot",
                     snapshot(eid, market, "2030-01-01T14:59:00Z", rng))
            predictions = []
            for k in range(args.per_event):
                market = rng.choice(list(MARKETS))
                selection, line = rng.choice(MARKETS[market])
                p = rng.uniform(0.3, 0.7)
                predictions.append({
                    "event_id": eid, "market": market, "selection": selection, "line": line,
                    "price": {"decimal": round(rng.uniform(1.6, 3.5), 3)}, "book": "pinnacle",
                    "raw_prob": p, "calibrated_prob": (p * 0.9 + 0.05) if k % 2 else None,
                    "tier": rng.choice("ABC"), "stake_units": 1.0})
            ids = post(args.base_url, "sim-runs", {
                "trigger": "scheduled", "model_version": "bench-1", "feature_set_version": "bench-1",
                "decision_policy_version": "bench-1",
                "code_version": {"git_sha": "0000000", "dirty": False}, "n_sims": 1000,
                "rng_seed": i, "started_at": "2029-12-31T18:00:00Z",
                "finished_at": "2029-12-31T18:00:01Z", "inputs": [],
                "predictions": predictions})["prediction_ids"]
            out.write("\n".join(ids) + "\n")
            written += len(ids)
    print(f"seeded {args.events} events, {written} predictions in {time.monotonic() - t0:.1f}s",
          file=sys.stderr)


def seed_results(args, rng: random.Random) -> None:
    for i in range(args.events):
        post(args.base_url, "event-results", {
            "event_id": event_id(i), "status": "final",
            "home_score": rng.randint(0, 4), "away_score": rng.randint(0, 4)})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base-url", required=True)
    ap.add_argument("--events", type=int, required=True)
    ap.add_argument("--per-event", type=int, default=1000)
    ap.add_argument("--out", help="file for the prediction ids")
    ap.add_argument("--results", action="store_true", help="post the final scores")
    args = ap.parse_args()
    args.base_url = args.base_url.rstrip("/")
    rng = random.Random(20261126 + (1 if args.results else 0))
    if args.results:
        seed_results(args, rng)
    else:
        seed_picks(args, rng)


if __name__ == "__main__":
    main()
