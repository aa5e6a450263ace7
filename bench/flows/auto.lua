-- The benchmark flow: every node automatic, so one start runs a whole
-- process to DONE in one transaction (bench/flows/lib/all_automatic.lua).
return require "all_automatic" { title = "All automatic" }
