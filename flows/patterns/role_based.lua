-- Resource pattern: Role-based distribution. Any holder of a permission (directly, through
-- a group, or as an admin) may take the task.
-- A test checks: with "role_based.approve" granted to bob only, `approve` is NEW and in the
-- queue of bob (and admin) but not of alice or carol; carol's assign is refused (403); bob
-- assigns and executes it and the process is DONE.
local flow = require "flow"
local this = flow.this

return flow.Flow {
  title = "Role-based distribution",

  start = flow.StartFunction():Next(this.approve),
  approve = flow.View { title = "Approve" }:Permission("role_based.approve"):Next(this.finish),
  finish = flow.End(),
}
