-- Automatic branches into a Join, all within the start (bench/flows/lib/parallel_automatic.lua):
-- `engine_bench N --threads K --flow parallel`.
return require "parallel_automatic" { title = "Automatic branches" }
