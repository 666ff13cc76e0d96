-- wrk script: durable publishes, one fresh prediction_id per request.
--
--   wrk -t4 -c16 -d20s --latency -s bench/publish.lua http://127.0.0.1:PORT -- IDS_FILE [THREADS]
--
-- IDS_FILE (or env BENCH_IDS) holds prediction ids, one a line. THREADS (or env BENCH_THREADS,
-- default 4) must equal wrk's -t, which wrk does not tell the script: thread k of THREADS takes
-- the k-th contiguous slice of the ids, so no id is published twice. A thread that runs out
-- wraps to the start of its slice (replays, answered 200); done() reports how many.
-- BENCH_COUNT_STATUS=1 also prints a per-status breakdown (costs some client CPU).

-- Main Lua state: setup() runs once per thread before it starts, done() after all stopped.
local threads = {}

function setup(thread)
  thread:set("thread_index", #threads)
  table.insert(threads, thread)
end

-- Thread Lua states (one per wrk thread). Globals are read back by done() via thread:get.
replays, statuses, ids_bytes = 0, {}, 0
local ids, pos, wrapped = "", 1, false  -- ids: our slice of the file, pos: next line
local headers = { ["Content-Type"] = "application/json" }

-- Thread k of n reads the lines that start in bytes [k*size/n, (k+1)*size/n) of the file:
-- disjoint and complete. Lines are found lazily in request(): inits run one after another while
-- earlier threads already send, so a slow init would hand thread 0 a head start.
function init(args)
  local path = args[1] or os.getenv("BENCH_IDS")
  local nthreads = tonumber(args[2] or os.getenv("BENCH_THREADS") or "4")
  assert(path, "pass the ids file after -- or set BENCH_IDS")
  assert(thread_index < nthreads, "wrk runs more threads than THREADS=" .. nthreads)
  local f = assert(io.open(path, "rb"))
  ids_bytes = f:seek("end")
  local first = math.floor(thread_index * ids_bytes / nthreads)
  local last = math.floor((thread_index + 1) * ids_bytes / nthreads)
  local starts_mid_line = false
  if first > 0 then
    f:seek("set", first - 1)
    starts_mid_line = f:read(1) ~= "\n"
  end
  f:seek("set", first)
  local chunk = f:read(last - first) or ""
  if chunk ~= "" and chunk:sub(-1) ~= "\n" then chunk = chunk .. (f:read("*l") or "") end
  f:close()
  if starts_mid_line then chunk = chunk:match("\n(.*)") or "" end  -- it is the previous thread's
  ids = chunk
  assert(ids:find("[^\r\n]"), "ids file too small: thread " .. thread_index .. " got no ids")
end

function request()
  local first, last = ids:find("[^\r\n]+", pos)
  if first == nil then
    first, last = ids:find("[^\r\n]+")
    wrapped = true
  end
  if wrapped then replays = replays + 1 end
  pos = last + 1
  local id = ids:sub(first, last)
  return wrk.format("POST", "/api/calibration/publish", headers,
    '{"prediction_id":"' .. id .. '","channel":"TELEGRAM","visibility":"PREMIUM","is_official":true}')
end

if os.getenv("BENCH_COUNT_STATUS") == "1" then
  function response(status, hdrs, body)
    statuses[status] = (statuses[status] or 0) + 1
  end
end

-- Latencies are in microseconds.
function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local e = summary.errors
  local total_replays, codes = 0, {}
  for _, t in ipairs(threads) do
    total_replays = total_replays + t:get("replays")
    for code, n in pairs(t:get("statuses")) do codes[code] = (codes[code] or 0) + n end
  end
  io.write(string.format("publish: %d requests in %.1fs; ids file %d bytes\n",
    summary.requests, secs, threads[1]:get("ids_bytes")))
  io.write(string.format("  non-2xx/3xx responses: %d; socket errors: connect %d read %d " ..
    "write %d timeout %d\n", e.status, e.connect, e.read, e.write, e.timeout))
  for code, n in pairs(codes) do io.write(string.format("  HTTP %d: %d\n", code, n)) end
  if total_replays > 0 then
    io.write(string.format("  WARNING: ids ran out; %d requests were replays\n", total_replays))
  end
  io.write(string.format("BENCH rps=%.1f p50_ms=%.3f p99_ms=%.3f non2xx=%d " ..
    "socket_errors=%d replays=%d\n",
    summary.requests / secs, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.status, e.connect + e.read + e.write + e.timeout, total_replays))
end
