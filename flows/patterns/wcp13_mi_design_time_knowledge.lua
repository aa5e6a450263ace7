-- WCP-13 Multiple instances with a priori design-time knowledge: a contract is signed by exactly
-- three signatories, in parallel, and filed when all three signed.
-- There is no multiple-instance construct and a Split may not have two branches to one node, so
-- the task is replicated in the model: sign_1..sign_3 are three nodes built by one Lua function;
-- each instance finds its number in its token (".../<split id>_<k>") and so its signatory.
-- A test checks: after the start, sign_1 (alice), sign_2 (bob) and sign_3 (carol) are ASSIGNED
-- with tokens start/P_1..start/P_3; after two signatures `file` has not run; after the third,
-- `signed` joins once, `file` runs once (data.filed == 1, data.signatures == 3) and the
-- process is DONE.
local flow = require "flow"
local this = flow.this

local SIGNATORIES = { "alice", "bob", "carol" }

-- one instance of the task "sign" (the same definition for every copy)
local function sign()
  return flow.View { title = "Sign the contract" }:Assign(this.signatory):Next(this.signed)
end

return flow.Flow {
  title = "WCP-13 Multiple instances with design-time knowledge",

  start = flow.StartFunction():Next(this.fork),
  fork = flow.Split():Always(this.sign_1):Always(this.sign_2):Always(this.sign_3),
  sign_1 = sign(),
  sign_2 = sign(),
  sign_3 = sign(),

  signed = flow.Join():Next(this.file),
  file = flow.Handler(this.file_contract):Next(this.finish),
  finish = flow.End(),

  -- the instance number k of the token ".../<split id>_<k>"
  signatory = function(self, activation)
    local k = tonumber(activation.task.token:match("_(%d+)$"))
    return SIGNATORIES[k]
  end,
  file_contract = function(self, activation)
    local data = activation.process.data
    data.filed = (data.filed or 0) + 1
    data.signatures = #SIGNATORIES
  end,
}
