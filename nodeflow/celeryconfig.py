"""Celery's configuration: the CELERY_* Django settings, copied once, when Celery first reads it.

Celery looks its configuration up on every message it sends or runs, names it was not given included.
Through Django's lazy settings object each such miss costs two `__getattr__` calls and their
exceptions, per name variant (a publish took 415 µs of CPU that way, 380 µs this way). Here a miss is a module's."""

from django.conf import settings

globals().update({name: getattr(settings, name) for name in dir(settings) if name.startswith("CELERY_")})
