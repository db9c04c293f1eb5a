"""Use cases of triggers: what saving, publishing, unpublishing and deleting a workflow do to its
schedules, webhook URLs and secrets; listening for test webhooks.

workflows.services calls these inside its own transactions, so this module never imports
workflows: starting runs is firing.py's (schedules) and webhooks.py's."""

import json
import logging
import threading
import uuid
from datetime import timedelta

from cachetools import LRUCache
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask, PeriodicTasks

from nodeflow import crypto
from nodes.registry import UnknownNodeType, registry
from triggers import schedules
from triggers.models import IdempotencyKey, TriggerSecret, WebhookEndpoint
from variables.models import VariableTrigger

logger = logging.getLogger("nodeflow.triggers")

WEBHOOK = "trigger.webhook"
SCHEDULE = "trigger.schedule"
VARIABLE = "trigger.variable"
SECRET_REF_PREFIX = "nodeflow-secret:"
FIRE_SCHEDULE_TASK = "triggers.fire_schedule"


def trigger_nodes(document, type_name):
    """The nodes of `type_name` in a document, as (node id, params with the type's defaults)."""
    found = []
    nodes = document.get("nodes") if isinstance(document, dict) else None
    for node in nodes if isinstance(nodes, list) else []:
        if not isinstance(node, dict) or node.get("type") != type_name or not isinstance(node.get("id"), str):
            continue
        params = node.get("params") if isinstance(node.get("params"), dict) else {}
        try:
            defaults = registry.for_node(node).defaults
        except (UnknownNodeType, TypeError):
            defaults = {}
        found.append((node["id"], {**defaults, **params}))
    return found


def trigger_node(document, type_name, node_id):
    """The params (with defaults) of node `node_id` when it is a `type_name` node of the document, else None."""
    return next((params for found_id, params in trigger_nodes(document, type_name) if found_id == node_id), None)


# ---------------------------------------------------------------------------
# Secrets


def secret_reference(secret_id):
    return f"{SECRET_REF_PREFIX}{secret_id}"


def _referenced_id(value):
    if isinstance(value, str) and value.startswith(SECRET_REF_PREFIX):
        try:
            return uuid.UUID(value[len(SECRET_REF_PREFIX):])
        except ValueError:
            return None
    return None


def seal_secrets(workflow, document, previous=None):
    """The document with each webhook secret in plain text replaced by a reference to an encrypted TriggerSecret.

    A reference to a secret of this workflow stays; one to a secret of another workflow
    of the same owner (an imported export) is copied; any other reference is dropped (the
    secret is unknown here, so validation asks for one). A plain secret equal to the one
    the previous draft referenced keeps that reference. Returns `document` itself when
    nothing changed."""
    nodes = document.get("nodes") if isinstance(document, dict) else None
    if not isinstance(nodes, list) or not any(_has_secret(node) for node in nodes):
        return document
    previous_refs = {node_id: params.get("secret") for node_id, params in trigger_nodes(previous or {}, WEBHOOK)}
    sealed = []
    for node in nodes:
        if _has_secret(node):
            node_id = node.get("id")  # a draft may be saved invalid: an id that is not a string had no secret before
            previous_ref = previous_refs.get(node_id) if isinstance(node_id, str) else None
            secret = _sealed_secret(workflow, node["params"]["secret"], previous_ref)
            params = {key: value for key, value in node["params"].items() if key != "secret"}
            if secret is not None:
                params["secret"] = secret
            node = {**node, "params": params}
        sealed.append(node)
    return {**document, "nodes": sealed}


def _has_secret(node):
    return (isinstance(node, dict) and node.get("type") == WEBHOOK and isinstance(node.get("params"), dict)
            and isinstance(node["params"].get("secret"), str) and node["params"]["secret"] != "")


def _sealed_secret(workflow, value, previous_ref):
    referenced = _referenced_id(value)
    if referenced is not None:
        found = TriggerSecret.objects.filter(pk=referenced).select_related("workflow").first()
        if found is None:
            return None
        if found.workflow_id == workflow.pk:
            return value
        if found.workflow.owner_id == workflow.owner_id:
            return secret_reference(TriggerSecret.objects.create(workflow=workflow, ciphertext=found.ciphertext).pk)
        return None
    previous_id = _referenced_id(previous_ref)
    if previous_id is not None:
        previous = TriggerSecret.objects.filter(pk=previous_id, workflow=workflow).first()
        if previous is not None and _decrypts_to(previous.ciphertext, value):
            return previous_ref
    return secret_reference(TriggerSecret.objects.create(workflow=workflow, ciphertext=crypto.encrypt(value)).pk)


def _decrypts_to(ciphertext, value):
    try:
        return crypto.decrypt(ciphertext) == value
    except crypto.DecryptionError:
        return False


def reveal_secret(workflow_id, value):
    """The plain text of a webhook's `secret` param (a reference to a secret of this workflow), or None."""
    secret_id = _referenced_id(value)
    if secret_id is None:
        return None
    key = (str(workflow_id), secret_id)  # a secret serves its own workflow only, cached or not
    with _ciphertexts_lock:
        ciphertext = _secret_ciphertexts.get(key)
    if ciphertext is None:
        row = TriggerSecret.objects.filter(pk=secret_id, workflow_id=workflow_id).values_list("ciphertext", flat=True)
        ciphertext = row.first()
        if ciphertext is None:
            return None
        _remember_ciphertext(key, ciphertext)
    try:
        return crypto.decrypt(ciphertext)
    except crypto.DecryptionError:
        logger.error("the secret of workflow %s cannot be decrypted with the configured keys", workflow_id)
        return None


# TriggerSecret rows never change, so their ciphertexts can be kept (and the secret
# decrypted per request) without a query on every webhook request.
_secret_ciphertexts = LRUCache(maxsize=1024)
_ciphertexts_lock = threading.Lock()  # webhook requests run in threads


def _remember_ciphertext(key, ciphertext):
    with _ciphertexts_lock:
        _secret_ciphertexts[key] = ciphertext


# ---------------------------------------------------------------------------
# Following the workflow's life


# The webhook door's lookups (triggers.hookcache) hold while this key keeps its value.
HOOK_GENERATION_KEY = "hook-generation"


def hooks_changed():
    """What a production URL answers may change when the current transaction commits: every web
    process drops its cached lookups then (a new random value, see triggers.hookcache)."""
    transaction.on_commit(_new_hook_generation, robust=True)


def _new_hook_generation():
    cache.set(HOOK_GENERATION_KEY, uuid.uuid4().hex, timeout=None)


def sync_endpoints(workflow):
    """One WebhookEndpoint per webhook node id in the draft or the published version; no others."""
    hooks_changed()
    wanted = {node_id for node_id, _ in trigger_nodes(workflow.definition, WEBHOOK)}
    if workflow.published_version_id:
        wanted |= {node_id for node_id, _ in trigger_nodes(workflow.published_version.definition, WEBHOOK)}
    existing = set(WebhookEndpoint.objects.filter(workflow=workflow).values_list("node_id", flat=True))
    if existing - wanted:
        WebhookEndpoint.objects.filter(workflow=workflow, node_id__in=existing - wanted).delete()
    if wanted - existing:
        WebhookEndpoint.objects.bulk_create(
            [WebhookEndpoint(workflow=workflow, node_id=node_id) for node_id in sorted(wanted - existing)],
            ignore_conflicts=True,  # a concurrent save of the same workflow made it first
        )
    # The API serialises the workflow right after: a prefetched list would be stale.
    getattr(workflow, "_prefetched_objects_cache", {}).pop("webhook_endpoints", None)


def published(workflow):
    """After a publish: the new version's schedules replace the old ones; its webhook URLs exist."""
    sync_schedules(workflow)
    sync_endpoints(workflow)
    sync_variable_triggers(workflow)


def unpublished(workflow):
    """After an unpublish: no schedule fires any more (webhook URLs answer 404 until the next publish)."""
    sync_schedules(workflow)
    sync_endpoints(workflow)
    sync_variable_triggers(workflow)


def sync_variable_triggers(workflow):
    """The published version's trigger.variable nodes, as the keys they watch (variables.VariableTrigger)."""
    VariableTrigger.objects.filter(workflow=workflow).delete()
    if workflow.published_version_id:
        VariableTrigger.objects.bulk_create([
            VariableTrigger(owner_id=workflow.owner_id, workflow=workflow, node_id=node_id, pattern=params["key"])
            for node_id, params in trigger_nodes(workflow.published_version.definition, VARIABLE)
            if isinstance(params.get("key"), str)
        ])


def deleting(workflow):
    """Before a workflow is deleted: its periodic tasks go (endpoints and secrets go with the row)."""
    hooks_changed()
    remove_periodic_tasks(PeriodicTask.objects.filter(name__startswith=_task_prefix(workflow.pk)))


# ---------------------------------------------------------------------------
# Schedules


def _task_prefix(workflow_id):
    return f"nodeflow:schedule:{workflow_id}:"


def periodic_task_name(workflow_id, node_id):
    return f"{_task_prefix(workflow_id)}{node_id}"


def sync_schedules(workflow):
    """Make the workflow's beat entries match the schedule nodes of its published version (none when unpublished).

    Beat's database scheduler notices the change (PeriodicTasks.last_update) on its next
    tick: no restart."""
    wanted = {}
    if workflow.published_version_id:
        for node_id, params in trigger_nodes(workflow.published_version.definition, SCHEDULE):
            wanted[periodic_task_name(workflow.pk, node_id)] = (node_id, schedules.parse(params))
    existing = {task.name: task for task in PeriodicTask.objects.filter(name__startswith=_task_prefix(workflow.pk))}
    remove_periodic_tasks(PeriodicTask.objects.filter(name__in=[name for name in existing if name not in wanted]))
    for name, (node_id, schedule) in wanted.items():
        timing = _beat_timing(schedule)
        task = existing.get(name) or PeriodicTask(name=name, task=FIRE_SCHEDULE_TASK)
        if any(getattr(task, field + "_id", None) != getattr(value, "pk", None) for field, value in timing.items()):
            task.last_run_at = None  # a new timing counts from now, not from the old one's last run
        for field, value in timing.items():
            setattr(task, field, value)
        task.args = json.dumps([str(workflow.pk), node_id])
        task.kwargs = "{}"
        task.enabled = True
        task.description = f"{workflow.name}: schedule node {node_id}"[:200]
        # A late interval fire is superseded by the next one: drop it instead of bunching up behind a busy worker.
        task.expire_seconds = schedule.every_s
        task.save()
    if wanted or existing:
        PeriodicTasks.update_changed()


def _beat_timing(schedule):
    if schedule.cron:
        crontab, _ = CrontabSchedule.objects.get_or_create(**schedule.cron_fields, timezone=schedule.timezone)
        return {"crontab": crontab, "interval": None}
    interval, _ = IntervalSchedule.objects.get_or_create(every=schedule.every_s, period=IntervalSchedule.SECONDS)
    return {"interval": interval, "crontab": None}


def remove_periodic_tasks(queryset):
    """Delete these beat entries and tell the running beat that its entries changed."""
    if queryset.exists():
        queryset.delete()
        PeriodicTasks.update_changed()


# ---------------------------------------------------------------------------
# Webhook URLs and what the API shows


def listen(workflow):
    """Make the test URLs of the draft's webhook nodes live for NODEFLOW["WEBHOOK_LISTEN_S"]; returns until when."""
    node_ids = [node_id for node_id, _ in trigger_nodes(workflow.definition, WEBHOOK)]
    if not node_ids:
        raise LookupError("the draft has no trigger.webhook node to listen for")
    sync_endpoints(workflow)
    until = timezone.now() + timedelta(seconds=settings.NODEFLOW["WEBHOOK_LISTEN_S"])
    WebhookEndpoint.objects.filter(workflow=workflow, node_id__in=node_ids).update(listening_until=until)
    return until


def base_url(request=None):
    """Where clients reach this server: NODEFLOW["PUBLIC_URL"], else the request's scheme and host."""
    configured = settings.NODEFLOW.get("PUBLIC_URL")
    if configured:
        return configured
    return request.build_absolute_uri("/").rstrip("/") if request is not None else ""


def hook_url(token, base, test=False):
    return f"{base}/hooks/{'test/' if test else ''}{token}"


def trigger_summaries(workflow, base, now=None):
    """The API's `triggers`: each trigger node of the draft with its URLs (webhooks) and next fire
    times (schedules: those of the published version, which is what fires; none when unpublished)."""
    now = now or timezone.now()
    live = workflow.published_version if workflow.published_version_id else None
    endpoints = {endpoint.node_id: endpoint for endpoint in workflow.webhook_endpoints.all()}
    summaries = []
    nodes = workflow.definition.get("nodes") if isinstance(workflow.definition, dict) else None
    for node in nodes if isinstance(nodes, list) else []:
        # A draft may be saved invalid: a node without a type or a string id is not a trigger of it
        # (validation says what is wrong), as trigger_nodes has it.
        if not isinstance(node, dict) or not isinstance(node.get("type"), str) or not isinstance(node.get("id"), str):
            continue
        try:
            node_type = registry.for_node(node)
        except (UnknownNodeType, TypeError):
            continue
        if not node_type.trigger:
            continue
        node_id = node["id"]
        live_params = trigger_node(live.definition, node_type.type, node_id) if live is not None else None
        summary = {"node_id": node_id, "type": node_type.type, "url": None, "test_url": None, "next_runs": []}
        endpoint = endpoints.get(node_id)
        if node_type.type == WEBHOOK and endpoint is not None:
            summary["url"] = hook_url(endpoint.token, base)
            summary["test_url"] = hook_url(endpoint.token, base, test=True)
        if node_type.type == SCHEDULE and live_params is not None:
            try:
                schedule = schedules.parse(live_params)
                summary["next_runs"] = schedules.next_runs(schedule, now, anchor=live.created_at)
            except schedules.InvalidSchedule:
                pass
        summaries.append(summary)
    return summaries


def purge_idempotency_keys(now=None):
    """Forget Idempotency-Keys older than NODEFLOW["WEBHOOK_IDEMPOTENCY_TTL_S"]; returns how many."""
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.NODEFLOW["WEBHOOK_IDEMPOTENCY_TTL_S"])
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
