-- wrk script: one MCP request per call, distinct arguments and id per call, answers checked.
-- Environment: BENCH_REV (client revision), BENCH_AUTH (bearer token, optional),
-- BENCH_SESSION (Mcp-Session-Id, optional), BENCH_METHOD (tools/call | tools/list),
-- BENCH_TOOL (the echo tool's name as the target exposes it; default echo).
local rev = os.getenv("BENCH_REV") or "2025-11-25"
local auth = os.getenv("BENCH_AUTH") or ""
local session = os.getenv("BENCH_SESSION") or ""
local method = os.getenv("BENCH_METHOD") or "tools/call"
local tool = os.getenv("BENCH_TOOL") or "echo"
local modern = rev == "2026-07-28"
local threads = {}

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
wrk.headers["MCP-Protocol-Version"] = rev
if auth ~= "" then wrk.headers["Authorization"] = "Bearer " .. auth end
if session ~= "" then wrk.headers["Mcp-Session-Id"] = session end
if modern then
  wrk.headers["Mcp-Method"] = method
  if method == "tools/call" then wrk.headers["Mcp-Name"] = tool end
end

local meta = ""
if modern then
  meta = '"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}'
end

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  counter = 0
  bad = 0
  first_bad = ""
end

function request()
  counter = counter + 1
  local id = tid * 100000000 + counter
  local body
  if method == "tools/call" then
    local sep = ""
    if modern then sep = "," end
    body = '{"jsonrpc":"2.0","id":' .. id .. ',"method":"tools/call","params":{"name":"' .. tool .. '","arguments":{"text":"bench-'
      .. id .. '"}' .. sep .. meta .. '}}'
  else
    body = '{"jsonrpc":"2.0","id":' .. id .. ',"method":"tools/list","params":{' .. meta .. '}}'
  end
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  local ok = status == 200 and body:find('"result"', 1, true) ~= nil and body:find('"isError":true', 1, true) == nil
  if ok and method == "tools/call" then ok = body:find('bench-', 1, true) ~= nil end
  if not ok then
    bad = bad + 1
    if first_bad == "" then first_bad = status .. " " .. string.sub(body, 1, 200) end
  end
end

function done(summary, latency, requests)
  local total_bad = 0
  local sample = ""
  for _, t in ipairs(threads) do
    total_bad = total_bad + (t:get("bad") or 0)
    if sample == "" then sample = t:get("first_bad") or "" end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"socket_errors":%d,"bad":%d,"p50":%d,"p95":%d,"p99":%d,"mean":%.1f}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, total_bad,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.mean))
  if sample ~= "" then io.write("BENCH_BAD " .. sample:gsub("\n", " ") .. "\n") end
end
