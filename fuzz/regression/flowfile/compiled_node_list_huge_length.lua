-- Fixed in flowdef.c extract: the node count was the table's length (a border,
-- here 2^26 from 27 entries), allocated up front: a 9 GB calloc.
local nodes = {}
for i = 26, 0, -1 do nodes[1 << i] = {} end
return { __flowdef = true, fields = {}, nodes = nodes }
