-- Fixed in flowdef.c extract: a field schema without a name loaded, and
-- flowdef_field() then passed NULL to strcmp (forms, start data).
return { __flowdef = true, fields = { { type = "string" } }, nodes = {} }
