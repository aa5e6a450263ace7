-- parallel.lua with history = "lean" (docs/flow-dsl.md): the start, the Split, the branches,
-- their Join and the End run through and leave no task row.
return require "parallel_automatic" { title = "Automatic branches, lean history", history = "lean" }
