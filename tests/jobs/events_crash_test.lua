-- kill -9 test of the event model: boundary timers and kept messages.  Processes wait on a
-- timer, then on a message (half of them sent before the receiver exists, so kept; the rest
-- sent while hosts are being killed) with a non-interrupting deadline beside it, and on a
-- Function nobody executes, taken away by an interrupting deadline.  The host
-- (`serve --jobs 2`) is SIGKILLed at random moments and restarted.  Afterwards every process
-- must be DONE with every message taken exactly once, each interrupting timeout fired exactly
-- once, no non-interrupting timeout fired twice, and every timer row settled (DONE or
-- CANCELED, never left SCHEDULED).
local src = assert(os.getenv("FLOWHOST_SOURCE"), "FLOWHOST_SOURCE")
local C = dofile(src .. "/tests/jobs/crash_lib.lua")(src .. "/tests/fixtures/crash_events")
local N = C.processes(150)

local function send(i)
  local r = C.json(string.format("send payment K%d --data '{\"amount\": %d}'", i, i))
  assert(r.message == "payment" and (#r.completed == 1 or type(r.kept) == "table"),
    "send K" .. i .. ": neither delivered nor kept")
end

local function start(i) C.cli(string.format("start waiting start --data '{\"order\": \"K%d\"}'", i)) end

-- the odd orders' payments arrive before anyone waits: they are kept; the processes start in
-- three waves, the first before any host runs, the others while hosts are being killed
local third = N // 3
for i = 1, N, 2 do send(i) end
for i = 1, third do start(i) end

math.randomseed(os.time())
local kills = 0
for round = 1, 8 do
  local pid = C.start_host()
  os.execute(string.format("sleep %.2f", 0.2 + math.random() * 0.4))
  if round == 2 then for i = third + 1, 2 * third do start(i) end end
  if round == 4 then for i = 2 * third + 1, N do start(i) end end
  -- the even orders' payments, some to waiting receivers, some kept
  if round == 3 then for i = 2, 2 * third, 2 do send(i) end end
  if round == 6 then for i = 2 * third + 2, N, 2 do send(i) end end
  C.kill(pid)
  kills = kills + 1
  io.write(string.format("round %d: killed the host; %d of %d processes DONE\n", round, C.count("DONE"), N))
end

local pid = C.start_host()
C.wait_done(N, 60)
C.stop(pid)

local failures = 0
local list = C.json("processes --limit 500").items
assert(#list == N, "expected " .. N .. " processes, got " .. #list)
for _, p in ipairs(list) do
  local detail, counts = C.task_counts(p.id)
  local data = detail.process.data
  local function expect(cond, what)
    if not cond then
      failures = failures + 1
      io.write(string.format("process %d (%s): %s\n", p.id, tostring(data.order), what))
    end
  end
  local late = counts["late:DONE"] or 0
  expect(detail.process.status == "DONE", "status " .. detail.process.status)
  expect(data.amount == tonumber(data.order:sub(2)), "amount " .. tostring(data.amount))
  expect(counts["wait_pay:DONE"] == 1, "payments taken: " .. tostring(counts["wait_pay:DONE"]))
  expect(counts["approve:CANCELED"] == 1, "approve not taken away once")
  expect(counts["escalated:DONE"] == 1 and data.escalated == 1, "escalated " .. tostring(data.escalated))
  expect(late <= 1 and (data.late or 0) == late, "late ran " .. tostring(data.late))
  expect((counts["wait_pay@timeout:DONE"] or 0) == late, "a fired reminder without its node")
  expect(counts["approve@timeout:DONE"] == 1, "approve's deadline fired " .. tostring(counts["approve@timeout:DONE"]))
  expect(not counts["wait_pay@timeout:SCHEDULED"] and not counts["approve@timeout:SCHEDULED"], "a timer left armed")
  expect(counts["join:DONE"] == 1 and counts["finish:DONE"] == 1, "join/finish not exactly once")
end
-- every payment was taken once: no message for K1 is kept any more, so a new receiver of it
-- waits (its timer runs by `jobs run` once due)
local probe = C.json("start waiting start --data '{\"order\": \"K1\"}'").process.id
os.execute("sleep 0.6")
C.cli("jobs run")
local _, probe_counts = C.task_counts(probe)
if probe_counts["wait_pay:STARTED"] ~= 1 then
  failures = failures + 1
  io.write("the probe's receiver is not waiting: a payment for K1 was kept twice, or the timer did not run\n")
end
C.cleanup()
io.write(string.format("%d processes, %d kills, %d failures\n", N, kills, failures))
os.exit(failures == 0 and 0 or 1)
