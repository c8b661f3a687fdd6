-- What every bench script reports, loaded by each with dofile: responses that are
-- not 200 or carry "errors" are counted per thread, and `done` prints the figures as
-- one JSON line (prefixed BENCH_JSON) for bench/run.py. A script's setup() calls
-- remember(thread) so that `done` can add up the threads' counts.
threads = {}
bad = 0

function remember(thread)
  table.insert(threads, thread)
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
