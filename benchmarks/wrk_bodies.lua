-- wrk script for bench_citizen_status.py: POST /cek/ with one pre-made form body per request
-- (each carries its own single-use challenge and NIK; a body is never sent twice), or plain GETs
-- for the baseline. Arguments after `--`: kind (status|baseline), bodies file, threads, cookie.
-- Prints one line "TEPAT requests=... rps=... p50_us=... p99_us=... non200=... found=...".

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  kind = args[1]
  non200, found, sent = 0, 0, 0
  bodies = {}
  if kind ~= "status" then return end
  local n, line_no = tonumber(args[3]), 0
  for line in io.lines(args[2]) do  -- thread k takes lines k, k + n, k + 2n, ...
    if line_no % n == id then bodies[#bodies + 1] = line end
    line_no = line_no + 1
  end
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  wrk.headers["Cookie"] = args[4]
end

function request()
  if kind ~= "status" then return wrk.format("GET") end
  sent = sent + 1
  if sent > #bodies then
    error("ran out of pre-made requests: raise --requests")
  end
  return wrk.format(nil, nil, nil, bodies[sent])
end

function response(status, headers, body)
  if status ~= 200 then
    non200 = non200 + 1
  elseif kind == "status" and string.find(body, 'class="result"', 1, true) then
    found = found + 1
  end
end

function done(summary, latency, requests)
  local bad, hits = 0, 0
  for _, t in ipairs(threads) do
    bad = bad + t:get("non200")
    hits = hits + t:get("found")
  end
  io.write(string.format(
    "TEPAT requests=%d rps=%.1f p50_us=%d p99_us=%d non200=%d found=%d\n",
    summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(99),
    bad + summary.errors.status, hits))
end
