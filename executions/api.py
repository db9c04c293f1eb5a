"""REST API of executions (API.md "Executions")."""

from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from executions.models import Execution, NodeRun


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


class ExecutionViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ExecutionSerializer

    def get_queryset(self):
        return Execution.objects.filter(owner=self.request.user)

    @action(detail=True, methods=["get"])
    def nodes(self, request, pk=None):
        execution = self.get_object()
        runs = execution.node_runs.order_by("start_seq", "id")
        return Response(NodeRunSerializer(runs, many=True).data)
