"""The spouts and bolts streamlets compile to. Each reads what it applies (the user's
function, source or window) from its component config, so the classes stay at module level
and the user's functions travel with the plan."""
