-- The database in trouble and the edges of the request syntax, against a real `flowhost serve`:
-- another program holding the write lock (new server threads still answer at once, because
-- opening a connection only reads the schema version; /api/health says "locked"), a full disk
-- (503 busy, never 500; /api/health says "full"; this part mounts a 6 MB tmpfs and is pending
-- without the right to), `since`/`until` that are no calendar date, and chunked bodies with
-- chunk extensions and trailers.
package.path = (os.getenv("FLOWHOST_SOURCE") or ".") .. "/tests/http/?.lua;" .. package.path
local C = require "client"
local socket = require "socket"

local srv, api

local function ok(res, status)
  assert(res.status == (status or 200), string.format("expected %d, got %d: %s", status or 200, res.status, res.body))
  return res.json
end

local function health(port)
  return ok(C.request(port or srv.port, "GET", "/api/health"))
end

setup(function()
  srv = C.server { users = { alice = { perms = { "helloworld.start" } } }, tokens = { "alice" }, threads = 8 }
  api = srv:bearer("alice")
end)

teardown(function()
  if srv then
    srv:stop_clean()
    srv:cleanup()
  end
end)

-- SQLite's file lock, taken by the sqlite3 shell: nothing to lock on PostgreSQL (FLOWHOST_TEST_PG)
local sqlite_it = os.getenv("FLOWHOST_TEST_PG") and pending or it

describe("a database locked by another program", function()
  sqlite_it("answers reads on every thread at once and reports the lock in /api/health", function()
    assert.equal("ok", health().db)
    local release = C.hold_write_lock(srv.db, 60, srv.dir)   -- until released
    -- 32 requests at once reach threads that never opened the database yet: opening it
    -- must not wait for the lock (it used to take 5 s, then 503, on each new thread)
    local texts = {}
    for i = 1, 32 do texts[i] = api:text("GET", "/api/tasks?view=inbox") end
    local t0 = socket.gettime()
    for i, res in ipairs(C.concurrent(srv.port, texts)) do assert.equal(200, res.status, "request " .. i) end
    local took = socket.gettime() - t0
    -- (waiting for the lock would take the busy timeout, 5 s; below it with room for a loaded machine)
    assert.is_true(took < 4.5, string.format("32 reads took %.2f s under the lock", took))
    C.sleep(1.1 - (socket.gettime() - t0))   -- past the 1 s that health keeps an answer
    t0 = socket.gettime()
    local h = health()
    assert.is_true(socket.gettime() - t0 < 4.5, "health waited for the lock")
    assert.equal("degraded", h.status)
    assert.equal("locked", h.db)
    assert.is_string(h.db_detail)
    release()
    -- once the lock is gone, writes work and health is ok again (it caches for 1 s)
    local res
    for _ = 1, 40 do
      res = api:post("/api/flows/helloworld/start/start", { data = { text = "after the lock" } })
      if res.status ~= 503 then break end
      C.sleep(0.5)
    end
    ok(res, 201)
    C.sleep(1.1)
    h = health()
    assert.equal("ok", h.status)
    assert.equal("ok", h.db)
    assert.is_true(h.db_free_bytes > 0)
  end)
end)

describe("a full disk", function()
  local mnt, full

  setup(function()
    mnt = srv.dir .. "/small"
    os.execute("mkdir -p " .. C.quote(mnt))
    if not os.execute("mount -t tmpfs -o size=6m tmpfs " .. C.quote(mnt) .. " 2>/dev/null") then
      mnt = nil
      return
    end
    full = C.server { db = mnt .. "/flowhost.db", users = { bob = { perms = { "helloworld.start" } } },
                      tokens = { "bob" } }
  end)

  teardown(function()
    if full then
      full:stop_clean()
      os.execute("rm -rf " .. C.quote(full.dir))
    end
    if mnt then os.execute("umount " .. C.quote(mnt)) end
  end)

  it("answers 503 busy, says so in /api/health, and works again once there is room", function()
    if not mnt then
      pending("cannot mount a small tmpfs here (needs root)")
      return
    end
    local bob = full:bearer("bob")
    ok(bob:post("/api/flows/helloworld/start/start", { data = { text = "fits" } }), 201)
    os.execute("dd if=/dev/zero of=" .. C.quote(mnt .. "/filler") .. " bs=4k >/dev/null 2>&1")
    -- the WAL keeps up to a MiB of room ahead (filled with zeros, host/store_walbuf.c): writes
    -- go on into it, each one whole, until they need a page more
    local first
    for i = 1, 400 do
      local res = bob:post("/api/flows/helloworld/start/start", { data = { text = string.rep("y", 100) .. i } })
      if res.status ~= 201 then
        first = res
        break
      end
    end
    assert.truthy(first, "400 writes succeeded on a full disk")
    assert.matches("disk is full", C.assert_error(first, 503, "busy").message)
    for i = 1, 20 do
      local res = bob:post("/api/flows/helloworld/start/start", { data = { text = string.rep("x", 100) .. i } })
      local e = C.assert_error(res, 503, "busy")
      assert.matches("disk is full", e.message)
    end
    C.sleep(1.1)
    local h = health(full.port)
    assert.equal("degraded", h.status)
    assert.equal("full", h.db)
    assert.is_true(h.db_free_bytes < 1024 * 1024)
    -- reads still work
    ok(bob:get("/api/processes"))
    os.remove(mnt .. "/filler")
    ok(bob:post("/api/flows/helloworld/start/start", { data = { text = "room again" } }), 201)
    C.sleep(1.1)
    assert.equal("ok", health(full.port).db)
  end)
end)

describe("since and until", function()
  it("refuses dates that are not on the calendar", function()
    for _, q in ipairs {
      "since=2024-02-30", "since=2023-02-29", "until=2024-04-31", "since=2024-13-01", "since=2024-00-10",
      "since=2024-02-29T24:00:00Z", "since=2024-02-28T23:60:00Z", "until=2024-02-28T23:59:61Z",
      "since=2024-2-1", "since=2024-02-01x", "since=20240201",
    } do
      C.assert_error(api:get("/api/tasks?view=inbox&" .. q), 400, "bad_request")
    end
    for _, q in ipairs {
      "since=2024-02-29", "until=2024-02-29", "since=2024-02-29T23:59:59Z", "since=2024-02-29T23:59:59.999Z",
      "since=2000-01-01&until=2099-12-31",
    } do
      ok(api:get("/api/tasks?view=inbox&" .. q))
    end
  end)
end)

describe("chunked bodies", function()
  local path = "/api/flows/helloworld/start/start"

  local function chunked(chunks, trailer)
    local parts = { "POST " .. path .. " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
      .. "Content-Type: application/json\r\nAuthorization: Bearer " .. srv.tokens.alice
      .. "\r\nTransfer-Encoding: chunked\r\n\r\n" }
    for _, c in ipairs(chunks) do parts[#parts + 1] = string.format("%x%s\r\n%s\r\n", #c[1], c[2] or "", c[1]) end
    parts[#parts + 1] = "0" .. (chunks.last or "") .. "\r\n" .. (trailer or "") .. "\r\n"
    return C.raw(srv.port, table.concat(parts))
  end

  it("takes chunk extensions and trailers", function()
    local body = '{"data": {"text": "chunked"}}'
    local a, b = body:sub(1, 10), body:sub(11)
    ok(chunked({ { body } }), 201)
    ok(chunked({ { body, ";name=value" } }), 201)
    ok(chunked({ { a, ";a=1;b=2" }, { b, ";quoted=\"x; y\"" }, last = ";end" }), 201)
    ok(chunked({ { a, "; spaced = ext" }, { b, ";flag" } }), 201)
    ok(chunked({ { body } }, "X-Checksum: abc\r\n"), 201)
    ok(chunked({ { a }, { b } }, "X-One: 1\r\nX-Two: 2\r\n"), 201)
    ok(chunked({ { body, ";x=y" }, last = ";last=1" }, "X-Checksum: abc\r\n"), 201)
    -- A blank before the ';' (RFC 9112's BWS) is refused by libmicrohttpd before 1.0 with its own
    -- 400 page; the host has no say in it (http-api.md).  It must not hurt the host either way.
    local bws = chunked({ { body, " ;a=b" } })
    assert.is_true(bws.status == 201 or bws.status == 400, "BWS answered " .. bws.status)
    ok(chunked({ { body } }), 201)
  end)
end)
