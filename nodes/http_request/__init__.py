"""The `http.request` node type, one module per version (`v1.py`, later `v2.py`…).

`guard.py` decides which URLs the node may request; every hop of a redirect chain
goes through it."""
