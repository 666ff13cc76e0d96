#!/usr/bin/python3
"""Write N graded publishes straight into a truthbook SQLite database, for the rollup benchmark.

  seed_rollups.py DB N

DB must have been created by `truthbook init-db` (the real schema, with its append-only and
gap-free triggers, which stay on). The publishes spread over 3 years of days (published_at is
server time, which the HTTP API cannot backdate, so a multi-year history can only be written
directly), across 6 leagues in 4 sports, 3 tiers, 5 markets, 3 channels and 5 books, 200 per
event, each with one final result and one grading, every record appended to ledger_entries
with a gap-free log_index. Outcomes, prices, CLV and probabilities come from a fixed-seed
generator, so every run writes the same data. Standard library only.
"""

import math
import random
import sqlite3
import sys
import time

DAY_MS = 86_400_000
START_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z
DAYS = 3 * 365
PER_EVENT = 200
LEAGUES = [("basketball", "NBA"), ("football", "NFL"), ("baseball", "MLB"), ("soccer", "EPL"),
           ("soccer", "MLS"), ("soccer", "LaLiga")]
TIERS = ["A", "B", "C"]
MARKETS = ["moneyline", "spread", "total", "moneyline_3way", "player_prop"]
CHANNELS = ["web", "api", "partner"]
BOOKS = ["pinnacle", "draftkings", "fanduel", "bet365", "circa"]
OUTCOMES = ["WIN"] * 45 + ["LOSS"] * 45 + ["PUSH"] * 4 + ["VOID"] * 2 + ["HALF_WIN"] * 2 + \
    ["HALF_LOSS"] * 2


def main() -> None:
    db, n = sys.argv[1], int(sys.argv[2])
    rng = random.Random(20261126)
    con = sqlite3.connect(db, isolation_level=None)
    con.execute("PRAGMA synchronous = OFF")
    con.execute("PRAGMA cache_size = -1000000")
    log_index = con.execute("SELECT COALESCE(MAX(log_index) + 1, 0) FROM ledger_entries").fetchone()[0]
    con.execute("BEGIN")
    con.execute("INSERT INTO sim_runs VALUES ('bench-run', 'bench', 'm1', 'f1', 'p1', "
                "'0000000000000000000000000000000000000000', 0, 10000, 1, '{}', ?, ?, ?)",
                (START_MS, START_MS, START_MS))
    started = time.time()
    events = (n + PER_EVENT - 1) // PER_EVENT
    for e in range(events):
        # Events in time order, so every table is appended in key order.
        day = e * DAYS // events
        start_ms = START_MS + day * DAY_MS + 20 * 3_600_000
        sport, league = LEAGUES[rng.randrange(len(LEAGUES))]
        season = str(2024 + day // 365)
        eid = f"rb-{e:07d}"
        con.execute("INSERT INTO events VALUES (?, 1, ?, ?, ?, 'H', 'A', ?, 'final', ?, ?)",
                    (eid, sport, league, season, start_ms, "b-" + eid, start_ms))
        result_id = "res-" + eid
        con.execute("INSERT INTO ledger_entries VALUES (?, 'event_result', ?, ?, ?, ?)",
                    (log_index, result_id, b"{}", "0" * 64, start_ms))
        con.execute("INSERT INTO event_results VALUES (?, ?, ?, 1, 'final', 100, 98, '[]', NULL, ?)",
                    (log_index, result_id, eid, start_ms + 10_800_000))
        log_index += 1
        predictions, ledger, publishes, gradings = [], [], [], []
        for k in range(min(PER_EVENT, n - e * PER_EVENT)):
            pid = f"{eid}-{k:03d}"
            published_ms = start_ms - rng.randrange(1, 12 * 3_600_000)
            market = MARKETS[rng.randrange(len(MARKETS))]
            tier = TIERS[rng.randrange(len(TIERS))]
            book = BOOKS[rng.randrange(len(BOOKS))]
            price = round(rng.uniform(1.6, 2.6), 3)
            prob = rng.uniform(0.2, 0.8)
            predictions.append(("pred-" + pid, "bench-run", eid, market, "home", None, None, None,
                                book, price, 100.0, prob, None, None, None, tier, 1.0,
                                published_ms))
            ledger.append((log_index, "publish", "pub-" + pid, b"{}", "0" * 64, published_ms))
            publishes.append((log_index, "pub-" + pid, "pred-" + pid,
                              CHANNELS[rng.randrange(len(CHANNELS))], "public", 1, published_ms,
                              "0" * 64))
            log_index += 1
            outcome = OUTCOMES[rng.randrange(len(OUTCOMES))]
            hit = 1.0 if outcome in ("WIN", "HALF_WIN") else 0.0
            scored = outcome not in ("PUSH", "VOID")
            profit = {"WIN": price - 1, "LOSS": -1.0, "PUSH": 0.0, "VOID": 0.0,
                      "HALF_WIN": (price - 1) / 2, "HALF_LOSS": -0.5}[outcome]
            clv = rng.random() < 0.8
            clv_fair = rng.uniform(-0.05, 0.06) if clv else None
            graded_ms = start_ms + 4 * 3_600_000
            ledger.append((log_index, "grading", "grd-" + pid, b"{}", "0" * 64, graded_ms))
            gradings.append((log_index, "grd-" + pid, "pub-" + pid, result_id, outcome, "risk",
                             1.0, profit, price, None, None,
                             rng.uniform(-0.05, 0.05) if clv else None, clv_fair,
                             clv_fair * 100 if clv else None,
                             None if clv else "no closing snapshot", "multiplicative", "raw",
                             prob, (prob - hit) ** 2 if scored else None,
                             -(hit * math.log(prob) + (1 - hit) * math.log(1 - prob)) if scored else None,
                             None, graded_ms))
            log_index += 1
        con.executemany("INSERT INTO predictions VALUES (" + ",".join("?" * 18) + ")", predictions)
        con.executemany("INSERT INTO ledger_entries VALUES (?,?,?,?,?,?)", ledger)
        con.executemany("INSERT INTO published_predictions VALUES (?,?,?,?,?,?,?,?)", publishes)
        con.executemany("INSERT INTO grading (log_index, grading_id, publish_id, result_id, outcome, "
                        "stake_convention, stake, profit_units, price_decimal, "
                        "closing_snapshot_id, closing_price, clv_price, clv_fair, clv_prob_pts, "
                        "clv_note, devig_method, prob_used, prob, brier, log_loss, supersedes, "
                        "graded_at) VALUES (" + ",".join("?" * 22) + ")", gradings)
        if e % 500 == 499:
            con.execute("COMMIT")
            con.execute("BEGIN")
            done = (e + 1) * PER_EVENT
            print(f"{done} publishes, {done / (time.time() - started):.0f}/s", flush=True)
    con.execute("COMMIT")
    con.close()


if __name__ == "__main__":
    main()
