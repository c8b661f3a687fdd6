-- recordUsage with BENCH_BATCH fresh events per request (unique idempotency keys).
-- BENCH_PREFIX is a file holding the JSON body up to the events array; each event is
-- {"idempotencyKey": ..., "organizationId": BENCH_ORG, "meter": "api_calls", ...}.
local file = assert(io.open(os.getenv("BENCH_PREFIX"), "rb"))
local prefix = file:read("*a")
file:close()
local batch = tonumber(os.getenv("BENCH_BATCH"))
local org = os.getenv("BENCH_ORG")
local run = os.getenv("BENCH_RUN")
local users = {}
for user in string.gmatch(os.getenv("BENCH_USERS"), "[^,]+") do
  table.insert(users, user)
end
local headers = {
  ["Content-Type"] = "application/json",
  ["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN"),
}

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
  local events = {}
  for index = 1, batch do
    events[index] = string.format(
      '{"idempotencyKey":"%s-%d-%d-%d","organizationId":"%s","meter":"api_calls",'
        .. '"quantity":"1","userId":"%s","source":"API"}',
      run, id, counter, index, org, users[(index % #users) + 1])
  end
  local body = prefix .. table.concat(events, ",") .. "]}}"
  return wrk.format("POST", nil, headers, body)
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
