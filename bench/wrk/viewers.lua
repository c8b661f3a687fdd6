-- POST one GraphQL document (a JSON body read from BENCH_BODY) as many viewers:
-- BENCH_TOKENS is a file of bearer tokens, one per line; each request takes the
-- next one (each wrk thread starts at its own offset), so no two requests in a row
-- come from the same viewer. Counts responses that are not 200 or carry "errors",
-- and prints the figures as one JSON line (report.lua).
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "report.lua")
local file = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
local body = file:read("*a")
file:close()
local tokens = {}
for line in io.lines(os.getenv("BENCH_TOKENS")) do
  if #line > 0 then
    table.insert(tokens, line)
  end
end

local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  remember(thread)
end

local counter = 0

function request()
  counter = counter + 1
  local token = tokens[((id * 7919 + counter) % #tokens) + 1]
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
  }, body)
end
