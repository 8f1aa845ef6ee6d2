-- wrk script: POST one valid entry per request, each with a fresh submission_id.
-- BENCH_BODY is the URL-encoded form with the text SUBMISSION_ID where the id goes;
-- BENCH_COOKIE is a signed-in session (the collector) or empty (the naive app).
local body_template = os.getenv("BENCH_BODY")
local cookie = os.getenv("BENCH_COOKIE") or ""
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("thread_number", counter)
end

function init(args)
  math.randomseed(os.time() * 1000 + (thread_number or 0) * 7919)
end

local function hex(digits)
  local out = {}
  for i = 1, digits do out[i] = string.format("%x", math.random(0, 15)) end
  return table.concat(out)
end

local function uuid4()
  return hex(8) .. "-" .. hex(4) .. "-4" .. hex(3) .. "-" ..
         string.format("%x", math.random(8, 11)) .. hex(3) .. "-" .. hex(12)
end

request = function()
  local headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }
  if cookie ~= "" then headers["Cookie"] = cookie end
  local body = body_template:gsub("SUBMISSION_ID", uuid4())
  return wrk.format("POST", nil, headers, body)
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.3f, "p50_ms": %.3f, "p99_ms": %.3f, "socket_errors": %d, "status_errors": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, e.connect + e.read + e.write + e.timeout, e.status))
end
