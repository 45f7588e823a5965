"""Lambda: the invoke path, the runtime that runs a function's own code, versions and aliases, code."""
