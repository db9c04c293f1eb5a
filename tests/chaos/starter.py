"""Run in a subprocess with a deployment's environment (`python -m tests.chaos.starter`): what a
chaos experiment asks of NodeFlow from the outside, with that deployment's database and broker.

The test process's own Celery app is bound to the suite's Redis and prefix (tests/settings.py),
so executions meant for a deployment with a private Redis, PostgreSQL or broker prefix are
started here. It reads one JSON command on stdin and prints one JSON answer on stdout:

- {"action": "start", "document": {...}, "count": n} → {"ids": [execution id, ...]}: n executions
  started with executions.starting.start_execution on the Celery dispatcher (a send that fails
  is left to recovery, as in a worker or the web);
- {"action": "publish_hook", "document": {...}} → {"hook_path", "api_token", "workflow_id"}: a user
  with an API token owns the document, published (its webhook trigger's production path)."""

import json
import sys

import django


def main():
    django.setup()
    command = json.load(sys.stdin)
    answer = {"start": start, "publish_hook": publish_hook}[command.pop("action")](**command)
    print(json.dumps(answer))


def _user():
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    user, _ = get_user_model().objects.get_or_create(username="chaos", defaults={"email": "chaos@example.com"})
    token, _ = Token.objects.get_or_create(user=user)
    return user, token.key


def start(document, count):
    from executions.starting import start_execution
    from executions.tasks import dispatcher

    user, _ = _user()
    ids = [str(start_execution(document, dispatcher=dispatcher, owner=user, input_data={"n": n}).pk)
           for n in range(count)]
    return {"ids": ids}


def publish_hook(document):
    from triggers.models import WebhookEndpoint
    from workflows.services import create_workflow, publish_workflow

    user, api_token = _user()
    workflow, errors = create_workflow(user, None, document)
    if errors:
        raise SystemExit(f"the document is invalid: {errors}")
    publish_workflow(workflow, user)
    hook = WebhookEndpoint.objects.get(workflow=workflow)
    return {"hook_path": f"/hooks/{hook.token}", "api_token": api_token, "workflow_id": str(workflow.pk)}


if __name__ == "__main__":
    main()
