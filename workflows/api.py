"""REST API of workflows (API.md "Workflows"): thin views over workflows.services."""

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from executions.runtime import InvalidInput
from nodeflow.api import ApiError
from workflows import services
from workflows.models import Workflow
from workflows.validation import validate_document


class WorkflowSerializer(serializers.ModelSerializer):
    definition = serializers.JSONField()
    published_version = serializers.SerializerMethodField()
    active = serializers.BooleanField(read_only=True)
    triggers = serializers.SerializerMethodField()

    class Meta:
        model = Workflow
        fields = ["id", "name", "definition", "revision", "published_version", "active", "triggers",
                  "created_at", "updated_at"]
        read_only_fields = ["id", "revision", "created_at", "updated_at"]

    def get_published_version(self, workflow) -> int | None:
        return workflow.published_version.number if workflow.published_version_id else None

    def get_triggers(self, workflow) -> list:
        nodes = workflow.definition.get("nodes") if isinstance(workflow.definition, dict) else None
        triggers = []
        for node in nodes if isinstance(nodes, list) else []:
            if isinstance(node, dict) and str(node.get("type", "")).startswith("trigger."):
                triggers.append({"node_id": node.get("id"), "type": node.get("type"), "url": None,
                                 "test_url": None, "next_runs": []})
        return triggers

    def validate_definition(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError("definition must be a JSON object (the nodeflow/v1 document)")
        return value


class RunSerializer(serializers.Serializer):
    input = serializers.JSONField(required=False, default=dict)
    version = serializers.JSONField(required=False, default="draft")

    def validate_version(self, value):
        if value in ("draft", "published") or (isinstance(value, int) and not isinstance(value, bool) and value > 0):
            return value
        raise serializers.ValidationError('version must be "draft", "published" or a version number')


class WorkflowViewSet(viewsets.ModelViewSet):
    serializer_class = WorkflowSerializer

    def get_queryset(self):
        return Workflow.objects.filter(owner=self.request.user).select_related("published_version")

    def _with_errors(self, workflow, errors, status_code):
        data = self.get_serializer(workflow).data
        data["validation"] = {"valid": not errors, "errors": errors}
        return Response(data, status=status_code)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        workflow, errors = services.create_workflow(
            request.user, serializer.validated_data["name"], serializer.validated_data["definition"]
        )
        return self._with_errors(workflow, errors, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        workflow = self.get_object()
        serializer = self.get_serializer(workflow, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        workflow, errors = services.update_workflow(
            workflow, name=serializer.validated_data.get("name"), definition=serializer.validated_data.get("definition")
        )
        return self._with_errors(workflow, errors, status.HTTP_200_OK)

    @extend_schema(request=RunSerializer, responses={202: dict})
    @action(detail=True, methods=["post"])
    def run(self, request, pk=None):
        workflow = self.get_object()
        serializer = RunSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            execution = services.run_workflow(
                workflow, input_data=serializer.validated_data["input"], version=serializer.validated_data["version"]
            )
        except services.InvalidWorkflow as exc:
            raise ApiError("invalid_workflow", str(exc), exc.errors) from None
        except InvalidInput as exc:
            raise ApiError("invalid_input", str(exc)) from None
        except LookupError as exc:
            raise ApiError("no_such_version", str(exc), status_code=404) from None
        return Response({"execution_id": str(execution.pk), "status": execution.status}, status=status.HTTP_202_ACCEPTED)

    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        workflow = self.get_object()
        try:
            version = services.publish_workflow(workflow, request.user)
        except services.InvalidWorkflow as exc:
            raise ApiError("invalid_workflow", str(exc), exc.errors) from None
        return Response({"version": version.number, "workflow": str(workflow.pk)}, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def unpublish(self, request, pk=None):
        workflow = self.get_object()
        services.unpublish_workflow(workflow)
        return Response(self.get_serializer(workflow).data)

    @action(detail=True, methods=["post"], url_path="validate")
    def validate_stored(self, request, pk=None):
        errors = validate_document(self.get_object().definition)
        return Response({"valid": not errors, "errors": errors})
