"""Per-request DataLoaders, one module per domain (Saleor's layout).

Batches read through the request's `reads` (`reads.py`): one session and snapshot for
a whole HTTP request, taking turns on it; a session per batch on a websocket.
"""
