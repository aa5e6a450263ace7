-- WCP-13 Multiple instances with a priori design-time knowledge: a contract is signed by exactly
-- three signatories, in parallel, and filed when all three signed.
-- Construct: `sign` is a View with :ForEach over a list fixed in the model (SIGNATORIES): one
-- task per signatory, assigned to them (:Assign reads task.data.item); the group's controller
-- task (type "foreach") goes on to `file` once every instance is DONE.
-- A test checks: after the start, three `sign` instances ASSIGNED to alice, bob and carol with
-- task data {item, index} 1..3 and the token of the controller (STARTED); after two signatures
-- `file` has not run and the controller counts two done; after the third, the controller is
-- DONE, `file` ran once (data.filed == 1, data.signatures == 3) and the process is DONE.
local flow = require "flow"
local this = flow.this

local SIGNATORIES = { "alice", "bob", "carol" }

return flow.Flow {
  title = "WCP-13 Multiple instances with design-time knowledge",

  start = flow.StartFunction():Next(this.sign),
  sign = flow.View { title = "Sign the contract" }:ForEach(this.signatories):Assign(this.signatory):Next(this.file),
  file = flow.Handler(this.file_contract):Next(this.finish),
  finish = flow.End(),

  signatories = function(self, activation) return SIGNATORIES end,
  signatory = function(self, activation) return activation.task.data.item end,
  file_contract = function(self, activation)
    local data = activation.process.data
    data.filed = (data.filed or 0) + 1
    data.signatures = #SIGNATORIES
  end,
}
