-- wrk script: each thread posts its own slice of the pre-signed bodies, in order.
-- BODIES names the generated file (make_bodies.py).
dofile(os.getenv("BODIES"))
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("offset", counter)
  table.insert(threads, thread)
end

function init(args)
  index = offset
  step = tonumber(os.getenv("WRK_THREADS") or "2")
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
  io.write(string.format("RESULT requests=%d errors_status=%d p50_ms=%.2f p99_ms=%.2f rps=%.1f\n",
    summary.requests, summary.errors.status, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests / (summary.duration / 1e6)))
end
