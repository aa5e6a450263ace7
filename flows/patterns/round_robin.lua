-- Resource pattern: Round robin. Each new case goes to the next person of a list.
-- A test checks: three processes started one after the other (consecutive process ids)
-- get `handle` ASSIGNED to three different users of {alice, bob, carol}, in that rotating
-- order (owner = team[(process.id - 1) % 3 + 1]); a fourth goes to the first one again.
local flow = require "flow"
local this = flow.this

local team = { "alice", "bob", "carol" }

return flow.Flow {
  title = "Round robin",

  start = flow.StartFunction():Next(this.handle),
  handle = flow.View { title = "Handle the case" }:Assign(this.next_in_turn):Next(this.finish),
  finish = flow.End(),

  -- Rotating on the process id needs no shared counter: Lua states are per thread and
  -- reloaded with the flow, so a counter kept in Lua would not survive either.
  next_in_turn = function(self, activation)
    return team[(activation.process.id - 1) % #team + 1]
  end,
}
