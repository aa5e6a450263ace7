-- The benchmark flow of auto.lua with history = "lean" (docs/flow-dsl.md):
-- its steps run through within the start and leave no task row.
return require "all_automatic" { title = "All automatic, lean history", history = "lean" }
