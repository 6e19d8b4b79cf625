-- wrk script: POST /v1/claims bodies drawn like bench/data.py's write_bodies, and a JSON
-- summary (latency percentiles, status counts, 503s without Retry-After) on one line.
-- Arguments after --: <bearer token> <seed>

local METRICS = {"deaths", "injuries", "arrests", "displaced", "hospitalized"}
local POPULATIONS = {"all", "civilians", "children"}
local SHARE = {all = 10, civilians = 6, children = 2}
local CLAIMANTS = {"Ministry of Health", "Civil Defence", "Red Crescent",
                   "Governor's Office", "UN OCHA", "City Hospital"}
local SOURCES = {"bench-wire", "bench-daily", "bench-tv"}
local QUALIFIERS = {"", "at least ", "about "}
local START = os.time({year = 2024, month = 3, day = 1, hour = 12})
local EVENTS, DAYS = 200, 14

local threads = {}

function setup(thread)
  thread:set("number", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(tonumber(args[2] or "1") * 1000 + number)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  if args[1] and args[1] ~= "-" then
    wrk.headers["Authorization"] = "Bearer " .. args[1]
  end
  statuses = {}
  no_retry_after = 0
end

local function pick(list)
  return list[math.random(#list)]
end

local function with_commas(n)
  local s = tostring(n)
  while true do
    local k
    s, k = s:gsub("^(%d+)(%d%d%d)", "%1,%2")
    if k == 0 then return s end
  end
end

local function body()
  local event = math.random(EVENTS) - 1
  local m = math.random(#METRICS)
  local population = pick(POPULATIONS)
  local day = math.random(DAYS) - 1
  local base = (event * 7919 + (m - 1) * 104729) % 900 + 100
  local value = math.floor(base * SHARE[population] * (10 + day) / 100)
  value = math.max(1, math.floor(value * (0.95 + math.random() * 0.1) + 0.5))
  return string.format(
    '{"event":"bench-e%03d","metric":"%s","population":"%s","figure":"%s%s",' ..
    '"as_of":"%s","claimant":"%s","source":"%s"}',
    event, METRICS[m], population, pick(QUALIFIERS), with_commas(value),
    os.date("%Y-%m-%d", START + day * 86400), pick(CLAIMANTS), pick(SOURCES))
end

function request()
  return wrk.format(nil, nil, nil, body())
end

function response(status, headers, _)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 503 and headers["retry-after"] == nil and headers["Retry-After"] == nil then
    no_retry_after = no_retry_after + 1
  end
end

function done(summary, latency, _)
  local counts, missing = {}, 0
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      counts[status] = (counts[status] or 0) + n
    end
    missing = missing + thread:get("no_retry_after")
  end
  local parts = {}
  for status, n in pairs(counts) do
    table.insert(parts, string.format('"%d":%d', status, n))
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
    '"max_us":%d,"socket_errors":%d,"timeouts":%d,"statuses":{%s},"no_retry_after":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.connect + e.read + e.write, e.timeout,
    table.concat(parts, ","), missing))
end
