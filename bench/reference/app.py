"""Baseline for the durable-publish benchmark: the seed's stack, FastAPI + uvicorn on SQLite.

A plain, idiomatic FastAPI service implementing the slice of ../../../shared/API.md the
benchmark touches: events, sim-runs, publish, health. WAL + synchronous=FULL, so every
acknowledged publish has been fsynced before its response. Sync handlers run in FastAPI's
thread pool, each request borrowing a pooled sqlite3 connection; transactions are serialized by
a process lock (SQLite has a single writer, and a lock beats sleeping in its busy handler).

Run: TRUTHBOOK_REF_DB=/tmp/ref.db python3 -m uvicorn app:app --host 127.0.0.1 --port 8000
"""

import hashlib
import json
import os
import queue
import sqlite3
import threading
import uuid
from datetime import datetime, timezone
from typing import List, Optional

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, confloat

DB_PATH = os.environ.get("TRUTHBOOK_REF_DB", "reference.db")

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
  event_id TEXT NOT NULL, revision INTEGER NOT NULL, body TEXT NOT NULL,
  start_time TEXT NOT NULL, recorded_at TEXT NOT NULL, PRIMARY KEY (event_id, revision));
CREATE TABLE IF NOT EXISTS sim_runs (
  sim_run_id TEXT PRIMARY KEY, body TEXT NOT NULL, recorded_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS predictions (
  prediction_id TEXT PRIMARY KEY, sim_run_id TEXT NOT NULL REFERENCES sim_runs,
  event_id TEXT NOT NULL, market TEXT NOT NULL, selection TEXT NOT NULL, line REAL,
  price_decimal REAL NOT NULL, book TEXT NOT NULL, raw_prob REAL NOT NULL,
  calibrated_prob REAL, tier TEXT NOT NULL, stake_units REAL NOT NULL);
CREATE TABLE IF NOT EXISTS published_predictions (
  publish_id TEXT PRIMARY KEY, prediction_id TEXT NOT NULL UNIQUE REFERENCES predictions,
  channel TEXT NOT NULL, visibility TEXT NOT NULL, is_official INTEGER NOT NULL,
  published_at TEXT NOT NULL, request_sha256 TEXT NOT NULL, log_index INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS ledger_entries (
  log_index INTEGER PRIMARY KEY, kind TEXT NOT NULL, ref_id TEXT NOT NULL,
  leaf_sha256 TEXT NOT NULL, appended_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rejected_attempts (
  attempt_id TEXT PRIMARY KEY, prediction_id TEXT NOT NULL, request_sha256 TEXT NOT NULL,
  reason TEXT NOT NULL, recorded_at TEXT NOT NULL);
"""

write_lock = threading.Lock()
pool: "queue.SimpleQueue[sqlite3.Connection]" = queue.SimpleQueue()
app = FastAPI(title="truthbook reference (seed stack)")


def now_rfc3339() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def sha256_json(obj) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def connect() -> sqlite3.Connection:
    # isolation_level=None: we issue BEGIN/COMMIT ourselves.
    conn = sqlite3.connect(DB_PATH, timeout=30, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


def get_db():
    # Reuse connections, as SQLAlchemy's QueuePool would; a fresh connection per request
    # costs this stack about a quarter of its publish throughput.
    try:
        conn = pool.get_nowait()
    except queue.Empty:
        conn = connect()
    try:
        yield conn
    finally:
        pool.put(conn)


@app.on_event("startup")
def init_db() -> None:
    conn = connect()
    conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript(SCHEMA)
    conn.close()


def problem(status: int, title: str, detail: str) -> JSONResponse:
    return JSONResponse(
        status_code=status, media_type="application/problem+json",
        content={"type": f"/problems/{title.lower().replace(' ', '-')}", "title": title,
                 "status": status, "detail": detail})


@app.exception_handler(RequestValidationError)
def invalid_argument(request: Request, exc: RequestValidationError) -> JSONResponse:
    err = exc.errors()[0]
    field = ".".join(str(p) for p in err["loc"] if p != "body")
    return problem(400, "Invalid argument", f"{field}: {err['msg']}")


class Transaction:
    """BEGIN IMMEDIATE ... COMMIT under the process write lock; ROLLBACK on any exception."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        write_lock.acquire()
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except BaseException:
            write_lock.release()
            raise
        return self.conn

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                self.conn.execute("COMMIT")
        finally:
            if self.conn.in_transaction:  # an exception, or a failed COMMIT
                self.conn.execute("ROLLBACK")
            write_lock.release()


# ---- events --------------------------------------------------------------------------------

class EventIn(BaseModel):
    event_id: str
    sport: str
    league: str
    season: str
    home_team: str
    away_team: str
    start_time: datetime
    status: str


@app.post("/api/calibration/events")
def post_event(event: EventIn, db: sqlite3.Connection = Depends(get_db)):
    body = json.loads(event.json())
    start = event.start_time.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    with Transaction(db):
        row = db.execute("SELECT revision, body FROM events WHERE event_id = ? "
                         "ORDER BY revision DESC LIMIT 1", (event.event_id,)).fetchone()
        if row and json.loads(row[1]) == body:
            return JSONResponse({"event_id": event.event_id, "revision": row[0]}, 200)
        revision = row[0] + 1 if row else 1
        db.execute("INSERT INTO events VALUES (?, ?, ?, ?, ?)",
                   (event.event_id, revision, json.dumps(body), start, now_rfc3339()))
    return JSONResponse({"event_id": event.event_id, "revision": revision}, 201)


# ---- sim runs ------------------------------------------------------------------------------

class Price(BaseModel):
    american: Optional[float] = None
    decimal: Optional[float] = None

    def to_decimal(self) -> Optional[float]:
        if self.decimal is not None:
            return self.decimal if self.decimal > 1 else None
        if self.american is None or -100 < self.american < 100:
            return None
        return 1 + self.american / 100 if self.american >= 100 else 1 + 100 / -self.american


class CodeVersion(BaseModel):
    git_sha: str
    dirty: bool


class PredictionIn(BaseModel):
    event_id: str
    market: str
    selection: str
    line: Optional[float] = None
    price: Price
    book: str
    raw_prob: confloat(gt=0, lt=1)
    calibrated_prob: Optional[confloat(gt=0, lt=1)] = None
    tier: str
    stake_units: float


class SimRunIn(BaseModel):
    trigger: str
    model_version: str
    feature_set_version: str
    decision_policy_version: str
    code_version: CodeVersion
    n_sims: int
    rng_seed: int
    started_at: datetime
    finished_at: datetime
    inputs: List[dict] = []
    predictions: List[PredictionIn]


@app.post("/api/calibration/sim-runs", status_code=201)
def post_sim_run(run: SimRunIn, db: sqlite3.Connection = Depends(get_db)):
    rows = []
    for i, p in enumerate(run.predictions):
        decimal = p.price.to_decimal()
        if decimal is None:
            return problem(400, "Invalid argument", f"predictions[{i}].price: invalid price")
        rows.append((str(uuid.uuid4()), p.event_id, p.market, p.selection, p.line, decimal,
                     p.book, p.raw_prob, p.calibrated_prob, p.tier, p.stake_units))
    sim_run_id = str(uuid.uuid4())
    with Transaction(db):  # returning early commits an empty transaction: nothing written
        for event_id in {p.event_id for p in run.predictions}:
            if not db.execute("SELECT 1 FROM events WHERE event_id = ?", (event_id,)).fetchone():
                return problem(404, "Not found", f"event {event_id} does not exist")
        db.execute("INSERT INTO sim_runs VALUES (?, ?, ?)",
                   (sim_run_id, run.json(exclude={"predictions"}), now_rfc3339()))
        db.executemany("INSERT INTO predictions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       [(r[0], sim_run_id) + r[1:] for r in rows])
    return {"sim_run_id": sim_run_id, "prediction_ids": [r[0] for r in rows]}


# ---- publish -------------------------------------------------------------------------------

class PublishIn(BaseModel):
    prediction_id: str
    channel: str
    visibility: str
    is_official: bool


def publish_answer(row, created: bool) -> dict:
    return {"publish_id": row[0], "prediction_id": row[1], "published_at": row[2],
            "log_index": row[3], "created": created}


@app.post("/api/calibration/publish")
def publish(req: PublishIn, db: sqlite3.Connection = Depends(get_db)):
    request_sha = sha256_json(req.dict())
    with Transaction(db):
        pred = db.execute(
            "SELECT p.event_id, (SELECT start_time FROM events e WHERE e.event_id = p.event_id "
            "ORDER BY revision DESC LIMIT 1) FROM predictions p WHERE prediction_id = ?",
            (req.prediction_id,)).fetchone()
        if pred is None:
            return problem(404, "Not found", f"prediction_id: {req.prediction_id} does not exist")
        existing = db.execute(
            "SELECT publish_id, prediction_id, published_at, log_index, request_sha256 "
            "FROM published_predictions WHERE prediction_id = ?", (req.prediction_id,)).fetchone()
        if existing is not None:
            if existing[4] == request_sha:
                return JSONResponse(publish_answer(existing, created=False), 200)
            db.execute("INSERT INTO rejected_attempts VALUES (?, ?, ?, ?, ?)",
                       (str(uuid.uuid4()), req.prediction_id, request_sha,
                        "different body", now_rfc3339()))
            return problem(409, "Conflict", "prediction_id: already published with another body")
        now = datetime.now(timezone.utc)
        if parse_time(pred[1]) <= now:
            return problem(409, "Conflict", f"event {pred[0]} has already started")
        publish_id = str(uuid.uuid4())
        published_at = now.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        (log_index,) = db.execute(
            "SELECT COALESCE(MAX(log_index) + 1, 0) FROM ledger_entries").fetchone()
        record = {"publish_id": publish_id, "published_at": published_at,
                  "request_sha256": request_sha, **req.dict()}
        db.execute("INSERT INTO published_predictions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   (publish_id, req.prediction_id, req.channel, req.visibility,
                    int(req.is_official), published_at, request_sha, log_index))
        db.execute("INSERT INTO ledger_entries VALUES (?, ?, ?, ?, ?)",
                   (log_index, "publish", publish_id, sha256_json(record), published_at))
    # The COMMIT (fsync of the WAL) has happened when the `with` block exits.
    return JSONResponse(publish_answer((publish_id, req.prediction_id, published_at, log_index),
                                       created=True), 201)


@app.get("/api/calibration/health")
def health():
    return {"status": "ok"}
