"""``make demo``: the stories told through the ``promoter`` CLI against the sandbox server."""
