"""REST API of executions (API.md "Executions")."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from executions import runtime, services
from executions.models import Execution, NodeRun
from nodeflow.api import ApiError


class ExecutionSerializer(serializers.ModelSerializer):
    workflow = serializers.UUIDField(source="workflow_id", read_only=True, allow_null=True)
    duration_ms = serializers.FloatField(read_only=True, allow_null=True)
    node_counts = serializers.SerializerMethodField()

    class Meta:
        model = Execution
        fields = ["id", "workflow", "version", "revision", "status", "trigger", "input", "result", "artifacts",
                  "error", "created_at", "started_at", "finished_at", "duration_ms", "node_counts"]

    def get_node_counts(self, execution) -> dict:
        counts = getattr(execution, "node_counts", None)
        if counts is None:
            counts = {}
            for status in execution.node_runs.values_list("status", flat=True):
                counts[status] = counts.get(status, 0) + 1
        return counts


class NodeRunSerializer(serializers.ModelSerializer):
    duration_ms = serializers.FloatField(read_only=True, allow_null=True)
    version = serializers.IntegerField(source="type_version", read_only=True)

    class Meta:
        model = NodeRun
        fields = ["node_id", "type", "version", "status", "attempt", "attempts", "queued_at", "started_at",
                  "finished_at", "duration_ms", "input", "output", "ports", "error", "logs", "worker"]


class InputSerializer(serializers.Serializer):
    node_id = serializers.CharField(max_length=64)
    data = serializers.JSONField(required=False, allow_null=True, default=None)


class ExecutionViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ExecutionSerializer

    def get_queryset(self):
        return Execution.objects.filter(owner=self.request.user)

    @action(detail=True, methods=["get"])
    def nodes(self, request, pk=None):
        execution = self.get_object()
        runs = execution.node_runs.order_by("start_seq", "id")
        return Response(NodeRunSerializer(runs, many=True).data)

    @extend_schema(parameters=[OpenApiParameter("after", str, description="node id; the last finished node when omitted")])
    @action(detail=True, methods=["get"])
    def context(self, request, pk=None):
        execution = self.get_object()
        node_id = request.query_params.get("after") or None
        try:
            after, context = runtime.context_after(execution, node_id)
        except KeyError:
            raise ApiError("unknown_node", f"the workflow has no node {node_id!r}", status_code=404) from None
        return Response({"after": after, "context": context})

    @extend_schema(parameters=[OpenApiParameter("after", int, description="return events with a larger seq")])
    @action(detail=True, methods=["get"])
    def events(self, request, pk=None):
        execution = self.get_object()
        raw_after = request.query_params.get("after", "0")
        try:
            after = int(raw_after)
        except ValueError:
            raise ApiError("invalid_parameter", f"after={raw_after!r} is not a sequence number") from None
        events = execution.events.filter(seq__gt=after).order_by("seq")[:1000]
        return Response([event.as_dict() for event in events])

    @extend_schema(request=InputSerializer, responses={202: dict})
    @action(detail=True, methods=["post"])
    def input(self, request, pk=None):
        execution = self.get_object()
        serializer = InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        node_id = serializer.validated_data["node_id"]
        if not execution.node_runs.filter(node_id=node_id).exists():
            raise ApiError("unknown_node", f"the execution has no node {node_id!r}", status_code=404)
        from executions.tasks import dispatcher

        try:
            woken = runtime.wake_node(str(execution.pk), node_id, dispatcher=dispatcher, reason="input",
                                      data=serializer.validated_data.get("data"))
        except runtime.InvalidInput as exc:
            raise ApiError("invalid_input", str(exc)) from None
        except runtime.NotWaitingForInput as exc:
            raise ApiError("not_waiting", str(exc), status_code=409) from None
        if not woken:
            raise ApiError("not_waiting", f"node {node_id!r} is not waiting", status_code=409)
        return Response({"execution_id": str(execution.pk), "node_id": node_id}, status=status.HTTP_202_ACCEPTED)

    def _control(self, request, use_case):
        execution = self.get_object()
        from executions.tasks import dispatcher

        try:
            use_case(str(execution.pk), dispatcher=dispatcher)
        except services.NotAllowed as exc:
            raise ApiError("not_allowed", str(exc), status_code=409) from None
        execution.refresh_from_db()
        return Response({"execution_id": str(execution.pk), "status": execution.status}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={202: dict})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._control(request, services.cancel_execution)

    @extend_schema(request=None, responses={202: dict})
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        return self._control(request, services.pause_execution)

    @extend_schema(request=None, responses={202: dict})
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        return self._control(request, services.resume_execution)

    @extend_schema(request=None, responses={202: dict})
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        return self._control(request, services.retry_execution)
