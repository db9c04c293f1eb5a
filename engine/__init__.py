"""The engine core: plain Python, no Django and no Celery.

Graph shape, readiness and skip propagation, the context a node sees, the merge of
branch variables at joins, and the state machine. Celery and the ORM are adapters
around it (see executions/)."""
