-- POST one GraphQL document (a JSON body read from BENCH_BODY) as many viewers:
-- BENCH_TOKENS is a file of bearer tokens, one per line; each request takes the
-- next one (each wrk thread starts at its own offset), so no two requests in a row
-- come from the same viewer. Counts responses that are not 200 or carry "errors",
-- and prints the figures as one JSON line (prefixed BENCH_JSON) for bench/run.py.
local file = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
local body = file:read("*a")
file:close()
local tokens = {}
for line in io.lines(os.getenv("BENCH_TOKENS")) do
  if #line > 0 then
    table.insert(tokens, line)
  end
end

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local counter = 0
bad = 0

function request()
  counter = counter + 1
  local token = tokens[((id * 7919 + counter) % #tokens) + 1]
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
  }, body)
end

function response(status, headers, body)
  if status ~= 200 or string.find(body, '"errors"', 1, true) then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local failed = 0
  for _, thread in ipairs(threads) do
    failed = failed + thread:get("bad")
  end
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "failed": %d, '
      .. '"socket_errors": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, '
      .. '"max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, failed,
    summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout + summary.errors.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end
