-- POST one GraphQL document (a JSON body read from BENCH_BODY) with BENCH_TOKEN.
-- Counts responses that are not 200 or carry "errors", and prints the figures as
-- one JSON line (report.lua).
dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "./") .. "report.lua")
local file = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")

function setup(thread)
  remember(thread)
end
