"""REST API of executions (API.md "Executions")."""

import uuid
from collections import defaultdict

from django.db.models import Count
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from executions import contexts, debugging, limits, outputs, resources, services, waking
from executions.children import child_counts, children_of_page
from executions.models import Execution, NodeRun
from executions.starting import InvalidInput
from executions.tasks import dispatcher
from nodeflow.api import ApiError, DocumentField, ErrorSerializer
from nodeflow.security import RunThrottle


class ExecutionSerializer(serializers.ModelSerializer):
    workflow = serializers.UUIDField(source="workflow_id", read_only=True, allow_null=True)
    duration_ms = serializers.FloatField(read_only=True, allow_null=True)
    node_counts = serializers.SerializerMethodField()
    parent = serializers.SerializerMethodField(help_text="A child execution's parent: {execution_id, node_id, index} "
                                               "(index: the loop iteration; null for a group or a sub-workflow).")
    children = serializers.SerializerMethodField(help_text="Its child executions: {total, succeeded, failed (failed, "
                                                 "timed out or cancelled), running (running, waiting or paused), "
                                                 "queued}.")
    priority = serializers.SerializerMethodField(help_text="high, normal or low (the workflow's settings.priority).")
    held = serializers.SerializerMethodField(help_text="A queued run held back by a concurrency limit: which one, "
                                                       "workflow (settings.max_concurrent) or owner; else null.")
    debug = serializers.JSONField(read_only=True, allow_null=True, help_text="A debug run's state: breakpoints, "
                                  "step, paused_at and the vars edits made while paused; null for other runs.")
    paused_at = serializers.SerializerMethodField(help_text="A debug run paused at breakpoints: the node ids it waits "
                                                  "before; else null.")
    resources = serializers.SerializerMethodField(help_text="What its node runs used, summed: cpu_ms, sandbox_cpu_ms, "
                                                            "bytes_in, bytes_out, and the largest peak_memory_kb; "
                                                            "in GET …/executions/{id}/ only.")

    class Meta:
        model = Execution
        fields = ["id", "workflow", "version", "revision", "status", "trigger", "input", "result", "artifacts",
                  "error", "created_at", "started_at", "finished_at", "duration_ms", "node_counts", "last_seq", "parent", "children", "depth",
                  "priority", "held", "resources"]
        fields += ["debug", "paused_at"]  # DEBUGGING.md

    def get_paused_at(self, execution) -> list | None:
        """The nodes a paused debug run waits before (step/ and resume/ run them)."""
        return (execution.debug or {}).get("paused_at") or None if execution.status == "paused" else None

    def get_priority(self, execution) -> str:
        return limits.PRIORITY_NAMES.get(execution.priority, "normal")

    def get_held(self, execution) -> str | None:
        return execution.held or None

    def get_resources(self, execution) -> dict | None:
        """Totals of the node runs' figures; in the detail only (a list would read every page's runs)."""
        view = self.context.get("view")
        if view is None or getattr(view, "action", None) != "retrieve":
            return None
        return resources.totals(execution.node_runs.exclude(resources=None).values_list("resources", flat=True))

    def get_parent(self, execution) -> dict | None:
        if execution.parent_id is None:
            return None
        return {"execution_id": str(execution.parent_id), "node_id": execution.parent_node_id,
                "index": execution.parent_index}

    def get_children(self, execution) -> dict:
        counts = getattr(execution, "prefetched_child_counts", None)
        return counts if counts is not None else child_counts(execution.pk)

    def get_node_counts(self, execution) -> dict:
        counts = getattr(execution, "prefetched_node_counts", None)
        if counts is None:
            rows = execution.node_runs.values("status").annotate(n=Count("id"))
            counts = {row["status"]: row["n"] for row in rows}
        return counts


def node_children(run) -> dict | None:
    """A composite node's children as its run keeps count of them: {total, succeeded, failed, running, queued}."""
    progress = (run.wait or {}).get("children")
    if not progress:
        return None
    started, succeeded, failed = progress.get("started", 0), progress.get("succeeded", 0), progress.get("failed", 0)
    return {"total": progress.get("total", 0), "succeeded": succeeded, "failed": failed,
            "running": started - succeeded - failed, "queued": progress.get("total", 0) - started}


class NodeRunSummarySerializer(serializers.ModelSerializer):
    """A node run without its data: what a live view needs to draw states."""

    duration_ms = serializers.FloatField(read_only=True, allow_null=True)
    children = serializers.SerializerMethodField(help_text="flow.foreach, flow.group, flow.subworkflow: the counts "
                                                 "of its child executions (list them with ?parent=&node_id=).")

    class Meta:
        model = NodeRun
        fields = ["node_id", "type", "status", "attempt", "queued_at", "started_at", "finished_at", "duration_ms",
                  "ports", "error", "worker", "children", "resources"]
        fields += ["pinned", "reused_from"]  # DEBUGGING.md

    def get_children(self, run) -> dict | None:
        return node_children(run)


class NodeRunSerializer(serializers.ModelSerializer):
    duration_ms = serializers.FloatField(read_only=True, allow_null=True)
    version = serializers.IntegerField(source="type_version", read_only=True)
    output_stored = serializers.SerializerMethodField(help_text="The output is large: `output` holds a preview and "
                                                                "`…/nodes/{node_id}/output/` serves it whole.")
    children = serializers.SerializerMethodField(help_text="flow.foreach, flow.group, flow.subworkflow: the counts "
                                                 "of its child executions (list them with ?parent=&node_id=).")

    class Meta:
        model = NodeRun
        fields = ["node_id", "type", "version", "status", "attempt", "attempts", "queued_at", "started_at",
                  "finished_at", "duration_ms", "input", "output", "output_stored", "ports", "error", "logs", "worker",
                  "children", "resources"]
        fields += ["pinned", "reused_from"]  # DEBUGGING.md

    def get_children(self, run) -> dict | None:
        return node_children(run)

    def get_output_stored(self, run) -> bool:
        return outputs.is_reference(run.output)


class EventSerializer(serializers.Serializer):
    """One entry of an execution's event log (as `events/`, the WebSocket and SSE send them)."""

    seq = serializers.IntegerField()
    type = serializers.CharField()
    node_id = serializers.CharField(allow_null=True)
    ts = serializers.DateTimeField()
    data = serializers.DictField()


class ContextSerializer(serializers.Serializer):
    after = serializers.CharField(allow_null=True, help_text="The node the context is taken after (null: none ran).")
    context = serializers.DictField(required=False, help_text="The full context (without diff=1).")
    diff = serializers.ListField(child=serializers.DictField(), required=False,
                                 help_text="With diff=1: what that node changed, as JSON Patch operations.")


class ExecutionDefinitionSerializer(serializers.Serializer):
    """The workflow document exactly as the execution ran it (the draft may have changed since)."""

    definition = DocumentField(source="definition.document", read_only=True,
                               help_text="The document the execution ran, as stored when it started.")
    version = serializers.IntegerField(read_only=True, allow_null=True,
                                       help_text="The published version it ran (null: a draft run).")
    revision = serializers.IntegerField(read_only=True, allow_null=True,
                                        help_text="The draft revision it ran (null: a published version ran).")


class ControlSerializer(serializers.Serializer):
    execution_id = serializers.UUIDField()
    status = serializers.CharField()


class InputAcceptedSerializer(serializers.Serializer):
    execution_id = serializers.UUIDField()
    node_id = serializers.CharField()


_CONFLICT = {409: ErrorSerializer}


class InputSerializer(serializers.Serializer):
    node_id = serializers.CharField(max_length=64)
    data = serializers.JSONField(required=False, allow_null=True, default=None)


class ExecutionViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ExecutionSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular building the schema
            return Execution.objects.none()
        # The id breaks ties, so that offset pages stay stable when executions share a timestamp.
        queryset = Execution.objects.filter(owner=self.request.user).order_by("-created_at", "-id")
        if self.action == "definition":
            return queryset.select_related("definition")
        if self.action != "list":
            return queryset
        params = self.request.query_params
        if params.get("parent"):  # one execution's children, by node and iteration
            try:
                parent_id = uuid.UUID(params["parent"])
            except ValueError:
                raise ApiError("invalid_parameter", f"parent={params['parent']!r} is not an execution id") from None
            if not queryset.filter(pk=parent_id).exists():
                raise ApiError("not_found", f"no execution {parent_id}", status_code=404)
            queryset = queryset.filter(parent_id=parent_id).order_by("parent_node_id", "parent_index", "created_at", "id")
            if params.get("node_id"):
                queryset = queryset.filter(parent_node_id=params["node_id"])
        else:  # top-level executions only: a loop's thousands of iterations are listed under their parent
            queryset = queryset.filter(parent__isnull=True)
        if params.get("workflow"):
            try:
                queryset = queryset.filter(workflow_id=uuid.UUID(params["workflow"]))
            except ValueError:
                raise ApiError("invalid_parameter", f"workflow={params['workflow']!r} is not a workflow id") from None
        for name in ("status", "trigger"):
            if params.get(name):
                queryset = queryset.filter(**{f"{name}__in": params[name].split(",")})
        for name, lookup in (("created_after", "created_at__gte"), ("created_before", "created_at__lt")):
            if params.get(name):
                moment = parse_datetime(params[name])
                if moment is None:
                    raise ApiError("invalid_parameter", f"{name}={params[name]!r} is not an ISO 8601 date-time")
                queryset = queryset.filter(**{lookup: moment})
        return queryset

    @extend_schema(parameters=[
        OpenApiParameter("workflow", str, description="workflow id"),
        OpenApiParameter("status", str, description="one status, or several separated by commas"),
        OpenApiParameter("trigger", str, description="manual, schedule, webhook, variable (commas for several)"),
        OpenApiParameter("created_after", str, description="ISO 8601 date-time"),
        OpenApiParameter("created_before", str, description="ISO 8601 date-time"),
        OpenApiParameter("parent", str, description="execution id: list its child executions (ordered by node and "
                         "index) instead of top-level executions"),
        OpenApiParameter("node_id", str, description="with parent: only the children of this node"),
    ])
    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        # Node counts of the whole page in one query, not one per execution.
        counts = defaultdict(dict)
        rows = NodeRun.objects.filter(execution__in=[e.pk for e in page]).values("execution_id", "status")
        for row in rows.annotate(n=Count("id")):
            counts[row["execution_id"]][row["status"]] = row["n"]
        child_counts_of_page = children_of_page([e.pk for e in page])
        for execution in page:
            execution.prefetched_node_counts = counts[execution.pk]
            execution.prefetched_child_counts = child_counts_of_page[execution.pk]
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(responses={200: NodeRunSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None)
    def nodes(self, request, pk=None):
        execution = self.get_object()
        runs = execution.node_runs.order_by("start_seq", "id")
        return Response(NodeRunSerializer(runs, many=True).data)

    @extend_schema(responses={200: ExecutionDefinitionSerializer})
    @action(detail=True, methods=["get"])
    def definition(self, request, pk=None):
        execution = self.get_object()
        return Response(ExecutionDefinitionSerializer(execution).data)

    @extend_schema(responses={200: OpenApiTypes.ANY})
    @action(detail=True, methods=["get"], url_path=r"nodes/(?P<node_id>[a-z][a-z0-9_]{0,63})/output")
    def node_output(self, request, pk=None, node_id=None):
        execution = self.get_object()
        run = execution.node_runs.filter(node_id=node_id).first()
        if run is None:
            raise ApiError("unknown_node", f"the execution has no node {node_id!r}", status_code=404)
        try:
            return Response(outputs.resolve(run.output, execution.id))
        except outputs.OutputMissing:
            raise ApiError("output_missing", f"the stored output of node {node_id!r} is no longer available",
                           status_code=404) from None

    @extend_schema(parameters=[
        OpenApiParameter("after", str, description="node id; the last finished node when omitted"),
        OpenApiParameter("diff", bool, description="return what that node changed (JSON Patch) instead"),
    ], responses={200: ContextSerializer})
    @action(detail=True, methods=["get"])
    def context(self, request, pk=None):
        execution = self.get_object()
        node_id = request.query_params.get("after") or None
        try:
            if request.query_params.get("diff") in ("1", "true"):
                if not node_id:
                    raise ApiError("invalid_parameter", "diff=1 needs after=<node id>")
                return Response({"after": node_id, "diff": contexts.context_diff(execution, node_id)})
            after, context = contexts.context_after(execution, node_id)
        except KeyError:
            raise ApiError("unknown_node", f"the workflow has no node {node_id!r}", status_code=404) from None
        return Response({"after": after, "context": context})

    @extend_schema(parameters=[OpenApiParameter("after", int, description="return events with a larger seq")],
                   responses={200: EventSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None)
    def events(self, request, pk=None):
        execution = self.get_object()
        raw_after = request.query_params.get("after", "0")
        try:
            after = int(raw_after)
        except ValueError:
            raise ApiError("invalid_parameter", f"after={raw_after!r} is not a sequence number") from None
        events = execution.events.filter(seq__gt=after).order_by("seq")[:1000]
        return Response([event.as_dict() for event in events])

    @extend_schema(request=InputSerializer, responses={202: InputAcceptedSerializer, **_CONFLICT})
    @action(detail=True, methods=["post"])
    def input(self, request, pk=None):
        execution = self.get_object()
        serializer = InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        node_id = serializer.validated_data["node_id"]
        if not execution.node_runs.filter(node_id=node_id).exists():
            raise ApiError("unknown_node", f"the execution has no node {node_id!r}", status_code=404)
        try:
            woken = waking.wake_node(str(execution.pk), node_id, dispatcher=dispatcher, reason="input",
                                      data=serializer.validated_data.get("data"))
        except InvalidInput as exc:
            raise ApiError("invalid_input", str(exc)) from None
        except waking.NotWaitingForInput as exc:
            raise ApiError("not_waiting", str(exc), status_code=409) from None
        if not woken:
            raise ApiError("not_waiting", f"node {node_id!r} is not waiting", status_code=409)
        return Response({"execution_id": str(execution.pk), "node_id": node_id}, status=status.HTTP_202_ACCEPTED)

    def _control(self, request, use_case):
        execution = self.get_object()
        try:
            use_case(str(execution.pk), dispatcher=dispatcher)
        except services.NotAllowed as exc:
            raise ApiError("not_allowed", str(exc), status_code=409) from None
        execution.refresh_from_db()
        return Response({"execution_id": str(execution.pk), "status": execution.status}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={202: ControlSerializer, **_CONFLICT})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._control(request, services.cancel_execution)

    @extend_schema(request=None, responses={202: ControlSerializer, **_CONFLICT})
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        return self._control(request, services.pause_execution)

    @extend_schema(request=None, responses={202: ControlSerializer, **_CONFLICT},
                   description="A debug run paused at breakpoints goes on to the next breakpoint.")
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        paused_debug = Execution.objects.filter(pk=self.get_object().pk, debug__isnull=False, status="paused").exists()
        return self._control(request, debugging.resume_debug_execution if paused_debug else services.resume_execution)

    @extend_schema(summary="Step a paused debug run", request=None, responses={202: ControlSerializer, **_CONFLICT},
                   description="Runs the nodes the debug run is paused before, and pauses again before the next ones.")
    @action(detail=True, methods=["post"])
    def step(self, request, pk=None):
        return self._control(request, debugging.step_execution)

    @extend_schema(summary="Change a paused debug run's variables", request=OpenApiTypes.OBJECT,
                   responses={200: OpenApiTypes.OBJECT, 400: ErrorSerializer, **_CONFLICT},
                   description="The body's keys are written into `vars` of the nodes the run is paused before, "
                               "recorded as a VARS_EDITED event; step/ or resume/ runs them with these variables.")
    @action(detail=True, methods=["patch"], url_path="vars", url_name="vars")
    def edit_vars(self, request, pk=None):
        execution = self.get_object()
        if not isinstance(request.data, dict) or not request.data:
            raise ApiError("invalid", "the body must be a non-empty object of variables to set", {"vars": [
                "expected an object"]})
        try:
            debug = debugging.edit_vars(str(execution.pk), dict(request.data), dispatcher=dispatcher)
        except services.NotAllowed as exc:
            raise ApiError("not_allowed", str(exc), status_code=409) from None
        return Response({"execution_id": str(execution.pk), "paused_at": debug["paused_at"], "vars": debug["vars"]})

    @extend_schema(request=None, responses={202: ControlSerializer, **_CONFLICT})
    @action(detail=True, methods=["post"], throttle_classes=[RunThrottle])
    def retry(self, request, pk=None):
        return self._control(request, services.retry_execution)
