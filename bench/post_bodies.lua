-- wrk script: each thread posts its own slice of the pre-signed bodies, in order.
-- BODIES names the generated file (make_bodies.py); FIRST_BODY skips that many bodies (those an
-- earlier run sent); PACE_MS makes each connection wait that long between requests.
dofile(os.getenv("BODIES"))
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("offset", counter)
  table.insert(threads, thread)
end

function init(args)
  index = offset + tonumber(os.getenv("FIRST_BODY") or "0")
  step = tonumber(os.getenv("WRK_THREADS") or "2")
end

-- Defined only when pacing: wrk then sends every request through a timer.
if os.getenv("PACE_MS") then
  local pause = tonumber(os.getenv("PACE_MS"))
  function delay()
    return pause
  end
end

function request()
  local entry = bodies[((index - 1) % #bodies) + 1]
  index = index + step
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/json",
    ["X-Hub-Signature-256"] = entry[2],
  }, entry[1])
end

function done(summary, latency, requests)
  -- The furthest body any thread reached: a later run starts past it (FIRST_BODY).
  local last_body = 0
  for _, thread in ipairs(threads) do
    last_body = math.max(last_body, thread:get("index") or 0)
  end
  io.write(string.format("RESULT requests=%d errors_status=%d p50_ms=%.2f p99_ms=%.2f rps=%.1f last_body=%d\n",
    summary.requests, summary.errors.status, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests / (summary.duration / 1e6), last_body))
end
