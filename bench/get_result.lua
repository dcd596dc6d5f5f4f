-- wrk script: the same request each time (method, body and headers from the environment),
-- reporting one RESULT line like post_bodies.lua.
local method = os.getenv("WRK_METHOD") or "GET"
local body = os.getenv("WRK_BODY")
local token = os.getenv("WRK_TOKEN")

-- PACE_MS makes each connection wait that long between requests: a steady offered rate.
local pause = tonumber(os.getenv("PACE_MS") or "")
if pause then
  function delay()
    return pause
  end
end

function request()
  local headers = {}
  if body then headers["Content-Type"] = "application/json" end
  if token then headers["Authorization"] = "Bearer " .. token end
  return wrk.format(method, nil, headers, body)
end

function done(summary, latency, requests)
  io.write(string.format("RESULT requests=%d errors_status=%d p50_ms=%.2f p99_ms=%.2f rps=%.1f\n",
    summary.requests, summary.errors.status, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests / (summary.duration / 1e6)))
end
