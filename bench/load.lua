-- One wrk script for every load point of the benchmark (`plumbline-bench run` sets the
-- environment and reads the JSON line `done` prints).
--
--   BENCH_SESSIONS   a file with one session per line: `cookie<TAB>founder name<TAB>question id<TAB>version`
--                    (the last three only for autosave). Requests rotate over the sessions, so
--                    50 connections are 50 different people, not one cookie 50 times.
--   BENCH_AUTOSAVE   "1": POST the founder's answer to /fn/save_answer with the version the
--                    server last returned for that founder, so every save is a real write and
--                    not a stale one (a stale save writes nothing and would flatter the numbers).
--   BENCH_ORIGIN     the Origin header server functions require.
--   BENCH_HEADER     an extra header, `Name: value` (the API token for the REST list).

local sessions = {}
local autosave = os.getenv("BENCH_AUTOSAVE") == "1"
local origin = os.getenv("BENCH_ORIGIN")
local extra_name, extra_value = nil, nil
do
  local extra = os.getenv("BENCH_HEADER")
  if extra and extra ~= "" then
    extra_name, extra_value = extra:match("^([^:]+):%s*(.*)$")
  end
end

-- Threads are numbered in `setup` so each one takes its own share of the founders: two threads
-- never save the same founder's answer, or one of them would always be stale.
local thread_count = 0
function setup(thread)
  thread:set("thread_index", thread_count)
  thread_count = thread_count + 1
  thread:set("thread_total", tonumber(os.getenv("BENCH_THREADS") or "1"))
end

local ready = {}      -- founders not in flight, by index into `sessions`
local by_name = {}    -- founder name -> index
local next_plain = 0

local function urlencode(s)
  return (s:gsub("[^%w%-_%.~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function init(args)
  local path = os.getenv("BENCH_SESSIONS")
  local index = 0
  if path and path ~= "" then
    for line in io.lines(path) do
      if line ~= "" then
        local cookie, name, question, version = line:match("^([^\t]*)\t?([^\t]*)\t?([^\t]*)\t?(%d*)$")
        local mine = (index % (thread_total or 1)) == (thread_index or 0)
        if mine or not autosave then
          local s = { cookie = cookie, name = name, question = question, version = tonumber(version) or 0 }
          table.insert(sessions, s)
          by_name[name] = #sessions
          table.insert(ready, #sessions)
        end
        index = index + 1
      end
    end
  end
end

local function headers_for(s)
  local h = {}
  if s and s.cookie ~= "" then h["Cookie"] = s.cookie end
  if origin then h["Origin"] = origin end
  if extra_name then h[extra_name] = extra_value end
  return h
end

local toggle = 0
function request()
  if autosave then
    local i = table.remove(ready, 1)
    if i == nil then
      -- More connections than founders: reuse one (its save may be stale; counted all the same).
      next_plain = next_plain % #sessions + 1
      i = next_plain
    end
    local s = sessions[i]
    toggle = 1 - toggle
    local body = "input%5Bquestion_id%5D=" .. urlencode(s.question)
      .. "&input%5Bchoice%5D=" .. (toggle == 1 and "yes" or "partly")
      .. "&input%5Bnotes%5D=" .. urlencode("Autosaved by the benchmark")
      .. "&input%5Blinks%5D="
      .. "&input%5Bversion%5D=" .. tostring(s.version)
    local h = headers_for(s)
    h["Content-Type"] = "application/x-www-form-urlencoded"
    return wrk.format("POST", nil, h, body)
  end
  local s = nil
  if #sessions > 0 then
    next_plain = next_plain % #sessions + 1
    s = sessions[next_plain]
  end
  return wrk.format("GET", nil, headers_for(s), nil)
end

-- For autosave: the answer in the reply (saved or stale) names who wrote it and its version;
-- that founder is ready again with that version.
function response(status, headers, body)
  if not autosave or body == nil then return end
  local name = body:match('"answered_by":"([^"]*)"')
  local version = body:match('"version":(%d+)')
  local i = name and by_name[name]
  if i and version then
    sessions[i].version = tonumber(version)
    table.insert(ready, i)
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},"latency_us":{"p50":%d,"p95":%d,"p99":%d,"max":%d,"mean":%.1f}}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max, latency.mean))
end
