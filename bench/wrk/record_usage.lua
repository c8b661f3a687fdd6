-- recordUsage with BENCH_BATCH fresh events per request (unique idempotency keys).
-- BENCH_PREFIX is a file holding the JSON body up to the events array; each event is
-- {"idempotencyKey": ..., "organizationId": BENCH_ORG, "meter": "api_calls", ...}.
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "report.lua")
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

local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  remember(thread)
end

local counter = 0

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
