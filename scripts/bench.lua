-- wrk script of `make bench` (scripts/bench.py runs it; see docs/benchmarks.md).
--
--   wrk -t2 -c16 -d15s -s scripts/bench.lua http://127.0.0.1:PORT/ -- /path [/path|COOKIE ...]
--
-- Sends GET requests to the paths given, in turn (one path: that page only). A path written
-- "/path|name=value" is sent with the header "Cookie: name=value". At the end it prints one
-- line, "BENCH-JSON {...}", with the requests, the latency percentiles in milliseconds, the
-- answers that were not 2xx or 3xx, and the answers that carried "X-Page-Cache: hit".

local requests_by_path = {}
local threads = {}
local turn = 0

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   for _, arg in ipairs(args) do
      local path, cookie = arg:match("^([^|]+)|(.+)$")
      local headers = {}
      if path then
         headers["Cookie"] = cookie
      else
         path = arg
      end
      table.insert(requests_by_path, wrk.format("GET", path, headers))
   end
   if #requests_by_path == 0 then
      requests_by_path[1] = wrk.format()
   end
   -- Globals: done() reads them from each thread.
   responses = 0
   bad = 0
   cache_hits = 0
end

function request()
   turn = turn % #requests_by_path + 1
   return requests_by_path[turn]
end

function response(status, headers, body)
   responses = responses + 1
   if status < 200 or status >= 400 then
      bad = bad + 1
   end
   local cache = headers["X-Page-Cache"] or headers["x-page-cache"]
   if cache == "hit" then
      cache_hits = cache_hits + 1
   end
end

function done(summary, latency, requests)
   local responses_total, bad_total, hits_total = 0, 0, 0
   for _, thread in ipairs(threads) do
      responses_total = responses_total + (thread:get("responses") or 0)
      bad_total = bad_total + (thread:get("bad") or 0)
      hits_total = hits_total + (thread:get("cache_hits") or 0)
   end
   local errors = summary.errors
   io.write(string.format(
      'BENCH-JSON {"requests": %d, "duration_s": %.3f, "bytes": %d, "responses": %d, '
         .. '"non_2xx_3xx": %d, "cache_hits": %d, "socket_errors": %d, "timeouts": %d, '
         .. '"latency_ms": {"mean": %.3f, "max": %.3f, "p50": %.3f, "p90": %.3f, '
         .. '"p95": %.3f, "p99": %.3f}}\n',
      summary.requests, summary.duration / 1e6, summary.bytes, responses_total,
      bad_total, hits_total, errors.connect + errors.read + errors.write, errors.timeout,
      latency.mean / 1000, latency.max / 1000,
      latency:percentile(50) / 1000, latency:percentile(90) / 1000,
      latency:percentile(95) / 1000, latency:percentile(99) / 1000
   ))
end
