-- WCP-26 Cancel multiple-instance activity: three signature instances run in parallel; the
-- requester may withdraw the contract, which cancels the instances not yet done (those done stay
-- DONE) and takes the withdrawal path.
-- The instances are replicated nodes of one Split round (as in WCP-13); the withdrawal sits in
-- that round and is flow.Cancel(this.fork); the normal end is Join { wait = 3, cancel_rest = true }
-- (all three signed), which withdraws the withdrawal option.
-- A test checks: alice signs, then carol withdraws -> sign_2 (bob) and sign_3 (dave) CANCELED,
-- sign_1 DONE, `withdrawn` ran once, no `file`, process DONE. Without withdrawal: three
-- signatures -> `withdraw` CANCELED, `file` once.
local flow = require "flow"
local this = flow.this

local SIGNATORIES = { "alice", "bob", "dave" }

local function sign()
  return flow.View { title = "Sign the contract" }:Assign(this.signatory):Next(this.signed)
end

return flow.Flow {
  title = "WCP-26 Cancel multiple-instance activity",

  start = flow.StartFunction():Next(this.fork),
  fork = flow.Split():Always(this.sign_1):Always(this.sign_2):Always(this.sign_3):Always(this.withdraw),
  sign_1 = sign(),
  sign_2 = sign(),
  sign_3 = sign(),
  withdraw = flow.View { title = "Withdraw the contract" }:Assign("carol"):Next(this.cancel_signing),

  signed = flow.Join { wait = 3, cancel_rest = true }:Next(this.file),
  file = flow.Handler(this.count):Next(this.finish),

  cancel_signing = flow.Cancel(this.fork):Next(this.withdrawn),
  withdrawn = flow.Handler(this.count):Next(this.finish),

  finish = flow.End(),

  signatory = function(self, activation)
    return SIGNATORIES[tonumber(activation.task.token:match("_(%d+)$"))]
  end,
  count = function(self, activation)
    local data = activation.process.data
    data[activation.task.node] = (data[activation.task.node] or 0) + 1
  end,
}
