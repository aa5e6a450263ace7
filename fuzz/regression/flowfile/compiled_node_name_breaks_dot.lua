-- Fixed in flowdef.c read_node: a compiled table returned by hand passed node
-- names unchecked; graph.c and the dot ids take names as [a-z0-9_] (this one
-- closes the dot string and adds an attribute).
return {
  __flowdef = true, fields = {},
  nodes = {
    { name = 'start" URL="javascript:alert(1)', kind = "start_function", edges = { { to = "finish" } } },
    { name = "finish", kind = "end", edges = {} },
  },
}
