"""REST API of workflows (API.md "Workflows"): thin views over workflows.services."""

import copy

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from engine import document as document_schemas
from engine import policy
from engine.pins import pins_of
from executions import testing
from executions.executing import start_here
from executions.partial import PartialRunRefused
from executions.starting import InvalidInput, run_workflow
from executions.tasks import dispatcher
from nodeflow.api import DOCUMENT_DESCRIPTION, ApiError, DocumentField, ErrorSerializer
from nodeflow.security import RunThrottle
from triggers import services as trigger_services
from workflows import services
from workflows.models import Workflow
from nodes.validation import ERROR_CODES, InvalidWorkflow, validate_document
from variables.checks import WARNING_CODES, document_warnings

class DraftDocumentField(DocumentField):
    """A workflow's draft: a document, or work in progress that does not validate yet (drafts are
    saved anyway), so the schema promises an object and points at WorkflowDocument for the rest."""


DRAFT_SCHEMA = {
    "anyOf": [{"$ref": "#/components/schemas/WorkflowDocument"}, {"type": "object"}],
    "description": DOCUMENT_DESCRIPTION + " A draft is saved even when it is not a valid document yet "
    "(see `validation`); published versions are valid.",
}


class DraftDocumentFieldSchema(OpenApiSerializerFieldExtension):
    target_class = DraftDocumentField
    priority = 1

    def map_serializer_field(self, auto_schema, direction):
        return copy.deepcopy(DRAFT_SCHEMA)


def _with_warnings(result, owner_id, document):
    """A validation result with its warnings (variables.checks), when there are any."""
    warnings = document_warnings(owner_id, document)
    return {**result, "warnings": warnings} if warnings else result


class ProblemSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=sorted(ERROR_CODES.items()))
    message = serializers.CharField()
    node_id = serializers.CharField(allow_null=True)
    edge = serializers.DictField(allow_null=True, help_text='{"from", "to", "port"} of the edge concerned.')
    path = serializers.CharField(allow_null=True, help_text='Where in the document, e.g. "nodes[2].params.url".')


class WarningSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=sorted(WARNING_CODES.items()))
    message = serializers.CharField()
    node_id = serializers.CharField(allow_null=True)
    edge = serializers.DictField(allow_null=True)
    path = serializers.CharField(allow_null=True)


class ValidationResultSerializer(serializers.Serializer):
    valid = serializers.BooleanField()
    errors = ProblemSerializer(many=True)
    warnings = WarningSerializer(many=True, required=False,
                                 help_text="Present when there are any: what may fail at run time without making the "
                                 "document invalid (a global variable that does not exist yet).")


class TriggerSerializer(serializers.Serializer):
    node_id = serializers.CharField()
    type = serializers.CharField()
    url = serializers.URLField(allow_null=True, help_text="Webhooks: the production URL (runs the published version).")
    test_url = serializers.URLField(allow_null=True, help_text="Webhooks: runs the draft while the workflow listens "
                                    "(POST …/listen/).")
    next_runs = serializers.ListField(child=serializers.DateTimeField(),
                                      help_text="Schedules: the next fire times of the published version.")


class ListenSerializer(serializers.Serializer):
    listening_until = serializers.DateTimeField()
    triggers = TriggerSerializer(many=True)


class WorkflowSerializer(serializers.ModelSerializer):
    name = serializers.CharField(
        max_length=200, required=False, help_text="Defaults to the document's name; written into the document."
    )
    definition = DraftDocumentField(required=False, help_text=DRAFT_SCHEMA["description"])
    published_version = serializers.SerializerMethodField()
    active = serializers.BooleanField(read_only=True, help_text="Whether a published version runs from triggers.")
    triggers = serializers.SerializerMethodField()
    revision = serializers.IntegerField(
        min_value=1, required=False,
        help_text="Bumped on every change of the draft. On PUT/PATCH, the revision the change was made on: "
        "the save is refused with 409 `revision_conflict` when the draft has moved on since (as `If-Match`).",
    )

    class Meta:
        model = Workflow
        fields = ["id", "name", "definition", "revision", "published_version", "active", "triggers",
                  "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]

    def get_published_version(self, workflow) -> int | None:
        return workflow.published_version.number if workflow.published_version_id else None

    @extend_schema_field(TriggerSerializer(many=True))
    def get_triggers(self, workflow):
        base = trigger_services.base_url(self.context.get("request"))
        return TriggerSerializer(trigger_services.trigger_summaries(workflow, base), many=True).data

    def validate(self, attrs):
        if self.instance is None and not self.partial and not attrs.get("name") and "definition" not in attrs:
            raise serializers.ValidationError({"name": ["give a name, a definition or both"]})
        if self.instance is not None and not self.partial and "definition" not in attrs:
            raise serializers.ValidationError({"definition": ["this field is required"]})
        return attrs


class SavedWorkflowSerializer(WorkflowSerializer):
    """A workflow as a save answers it: with the draft's validation result."""

    validation = ValidationResultSerializer(read_only=True)

    class Meta(WorkflowSerializer.Meta):
        fields = [*WorkflowSerializer.Meta.fields, "validation"]


class DefinitionSerializer(serializers.Serializer):
    definition = DocumentField(objects_only=False, help_text=DOCUMENT_DESCRIPTION)


class VersionSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    revision = serializers.IntegerField(help_text="The draft revision it was published from.")
    created_at = serializers.DateTimeField()
    created_by = serializers.CharField(source="created_by.username", allow_null=True, default=None)
    published = serializers.SerializerMethodField(help_text="Whether triggers run this version now.")

    def get_published(self, version) -> bool:
        return version.workflow.published_version_id == version.pk


class VersionDetailSerializer(VersionSerializer):
    definition = DocumentField(help_text=DOCUMENT_DESCRIPTION)


class DebugSerializer(serializers.Serializer):
    breakpoints = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    step = serializers.BooleanField(required=False, default=False)


class RunSerializer(serializers.Serializer):
    input = serializers.JSONField(required=False, help_text="The run's input ({} when omitted; a run from "
                                  "start_at takes the earlier execution's).")
    version = serializers.JSONField(required=False, default="draft")
    from_execution = serializers.UUIDField(required=False, help_text="With start_at: the earlier execution of this "
                                           "workflow whose outputs, ports and vars the nodes before start_at reuse.")
    start_at = serializers.CharField(required=False, help_text="Run this node and what follows with the current "
                                     "draft (DEBUGGING.md, partial runs).")
    stop_after = serializers.ListField(child=serializers.CharField(), required=False, allow_empty=False,
                                       help_text="Run only what these nodes need, and stop.")
    debug = DebugSerializer(required=False, help_text="A debug run: it pauses (paused_at) before each breakpoint "
                            "node, or before every node with step; POST …/executions/{id}/step/ or resume/ goes on.")

    def validate(self, data):
        partial_run = "start_at" in data or "stop_after" in data
        if partial_run and data.get("version", "draft") != "draft":
            raise serializers.ValidationError({"version": ["a partial run runs the draft"]})
        if "start_at" in data and "from_execution" not in data:
            raise serializers.ValidationError({"from_execution": ["start_at needs the execution to reuse"]})
        if "from_execution" in data and "start_at" not in data:
            raise serializers.ValidationError({"start_at": ["from_execution needs the node to start at"]})
        return data

    def validate_version(self, value):
        if value in ("draft", "published") or (isinstance(value, int) and not isinstance(value, bool) and value > 0):
            return value
        raise serializers.ValidationError('version must be "draft", "published" or a version number')


class TestRunSerializer(serializers.Serializer):
    names = serializers.ListField(child=serializers.CharField(), required=False, allow_empty=False,
                                  help_text="Run only the cases of these names (all when omitted).")


_ERRORS = {400: ErrorSerializer, 404: ErrorSerializer}
_SAVE_ERRORS = {400: OpenApiResponse(ErrorSerializer, description="Not a JSON object, or no readable api_version "
                                     "(code missing_api_version / unsupported_api_version)."),
                413: OpenApiResponse(ErrorSerializer, description="The document is over the size limit.")}
_REVISION_NOTE = (" Optimistic concurrency: send the revision you edited as `If-Match: \"<revision>\"` or as "
                  "`revision` in the body; when the draft was saved elsewhere since, the answer is 409 "
                  "`revision_conflict` with the current revision in `details.revision`. Without either, the last "
                  "write wins.")
_IF_MATCH = OpenApiParameter("If-Match", str, OpenApiParameter.HEADER, required=False,
                             description='The revision the change was made on, e.g. "3" (an ETag-like value).')
_CONFLICT = OpenApiResponse(ErrorSerializer, description="`revision_conflict`: the draft is at another revision "
                            "(`details`: `{revision, expected}`).")
_SAVE_NOTE = ("Drafts are saved even when invalid: the answer carries the draft's `validation` "
              "(`{valid, errors}`); publishing an invalid draft is refused.")


@extend_schema_view(
    list=extend_schema(summary="List your workflows"),
    retrieve=extend_schema(summary="A workflow", responses={200: WorkflowSerializer, 404: ErrorSerializer}),
    create=extend_schema(summary="Create a workflow", description=_SAVE_NOTE,
                         responses={201: SavedWorkflowSerializer, **_SAVE_ERRORS}),
    update=extend_schema(summary="Replace a workflow's draft", description=_SAVE_NOTE + _REVISION_NOTE,
                         parameters=[_IF_MATCH],
                         responses={200: SavedWorkflowSerializer, 404: ErrorSerializer, **_SAVE_ERRORS, 409: _CONFLICT}),
    partial_update=extend_schema(summary="Change a workflow's name and/or draft", description=_SAVE_NOTE + _REVISION_NOTE,
                                 parameters=[_IF_MATCH],
                                 responses={200: SavedWorkflowSerializer, 404: ErrorSerializer, **_SAVE_ERRORS,
                                            409: _CONFLICT}),
    destroy=extend_schema(summary="Delete a workflow, its versions and executions", responses={204: None, **_ERRORS}),
)
class WorkflowViewSet(viewsets.ModelViewSet):
    serializer_class = WorkflowSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular inspecting the view
            return Workflow.objects.none()
        return (Workflow.objects.filter(owner=self.request.user).select_related("published_version")
                .prefetch_related("webhook_endpoints"))

    def _saved(self, workflow, errors, status_code):
        data = self.get_serializer(workflow).data
        data["validation"] = _with_warnings({"valid": not errors, "errors": errors}, workflow.owner_id,
                                            workflow.definition)
        return Response(data, status=status_code)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with _readable_documents():
            workflow, errors = services.create_workflow(
                request.user, serializer.validated_data.get("name"), serializer.validated_data.get("definition")
            )
        return self._saved(workflow, errors, status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        workflow = self.get_object()
        serializer = self.get_serializer(workflow, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        expected = expected_revision(request.headers.get("If-Match"), serializer.validated_data.get("revision"))
        with _readable_documents():
            try:
                workflow, errors = services.update_workflow(
                    workflow, name=serializer.validated_data.get("name"),
                    definition=serializer.validated_data.get("definition"), expected_revision=expected,
                )
            except services.RevisionConflict as exc:
                raise ApiError("revision_conflict", str(exc), {"revision": exc.current, "expected": exc.expected},
                               status_code=status.HTTP_409_CONFLICT) from None
        return self._saved(workflow, errors, status.HTTP_200_OK)

    def perform_destroy(self, workflow):
        services.delete_workflow(workflow)

    @extend_schema(summary="Run a workflow", request=RunSerializer,
                   description="A manual run of the draft whose problems all lie in nodes no trigger leads to runs "
                   "the part the triggers reach; the answer's `left_out` lists the node ids it left out. Otherwise an "
                   "invalid draft is refused with `invalid_workflow`. The run's instant nodes (flow, data, logic, "
                   "triggers) run in this request, in the transaction that creates it (for up to "
                   "NODEFLOW_LOCAL_RUN_ON_START_S), so the answer's `status` is the run's as that commits: "
                   "`queued` or `running` when nodes are left for the workers, `succeeded` or `failed` when it "
                   "has ended.",
                   responses={202: OpenApiTypes.OBJECT, **_ERRORS})
    @action(detail=True, methods=["post"], throttle_classes=[RunThrottle])
    def run(self, request, pk=None):
        workflow = self.get_object()
        serializer = RunSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        input_data = data.get("input", None if "start_at" in data else {})
        try:
            execution = start_here(lambda here: run_workflow(
                workflow, dispatcher=dispatcher, input_data=input_data, version=data["version"],
                from_execution=data.get("from_execution"), start_at=data.get("start_at"),
                stop_after=data.get("stop_after"),
                debug=policy.debug_request(**data["debug"]) if "debug" in data else None, run_here=here), dispatcher)
        except PartialRunRefused as exc:
            raise ApiError("invalid", str(exc), {exc.field: [str(exc)]}) from None
        except InvalidWorkflow as exc:
            raise ApiError("invalid_workflow", str(exc), exc.errors) from None
        except InvalidInput as exc:
            raise ApiError("invalid_input", str(exc)) from None
        except LookupError as exc:
            raise ApiError("no_such_version", str(exc), status_code=404) from None
        answer = {"execution_id": str(execution.pk), "status": execution.status}
        if execution.left_out:
            # A draft with problems only outside what its triggers reach ran that part: say what it left out.
            answer["left_out"] = execution.left_out
        return Response(answer, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Run the draft's workflow tests",
        description="Each case of the draft's `tests` (or those named in `names`) runs as a real execution "
        "(trigger `test`) with the draft's pins and its own in force, stopped after `max_steps` node runs "
        "(default 1,000), and is checked against its `expect`. The answer is the report: `{passed, failed, "
        "cases: [{name, ok, execution_id, status, duration_ms, failures: [{path, expected, actual}]}]}`. An "
        "invalid draft is refused with `invalid_workflow`, an unknown name with `unknown_test_case`.",
        request=TestRunSerializer, responses={200: OpenApiTypes.OBJECT, **_ERRORS},
    )
    @action(detail=True, methods=["post"], url_path="test", url_name="test", throttle_classes=[RunThrottle])
    def test(self, request, pk=None):
        workflow = self.get_object()
        serializer = TestRunSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        document = workflow.definition
        errors = validate_document(document)
        if errors:
            raise ApiError("invalid_workflow", str(InvalidWorkflow(errors)), errors)
        try:
            cases = testing.chosen_cases(document, serializer.validated_data.get("names"))
        except testing.CaseNotFound as exc:
            raise ApiError("unknown_test_case", str(exc), {"names": serializer.validated_data["names"]}) from None
        report = testing.run_cases(document, cases, dispatcher=dispatcher, owner_id=workflow.owner_id,
                                   workflow=workflow, revision=workflow.revision)
        return Response(report)

    @extend_schema(
        summary="Validate a posted document",
        operation_id="workflows_validate_document",
        request=DefinitionSerializer,
        responses={200: ValidationResultSerializer, 400: ErrorSerializer, 413: ErrorSerializer},
    )
    @action(detail=False, methods=["post"], url_path="validate", url_name="validate-document")
    def validate_document(self, request):
        serializer = DefinitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        errors = validate_document(serializer.validated_data["definition"])
        return Response(_with_warnings({"valid": not errors, "errors": errors}, request.user.pk,
                                       serializer.validated_data["definition"]))

    @extend_schema(summary="Validate a workflow's draft", request=None,
                   responses={200: ValidationResultSerializer, 404: ErrorSerializer})
    @action(detail=True, methods=["post"], url_path="validate", url_name="validate")
    def validate_stored(self, request, pk=None):
        workflow = self.get_object()
        errors = validate_document(workflow.definition)
        return Response(_with_warnings({"valid": not errors, "errors": errors}, workflow.owner_id, workflow.definition))

    @extend_schema(
        summary="Publish the draft as a new immutable version",
        description="Triggers (schedule, webhook) run the new version from now on. An invalid draft is refused "
        "with code `invalid_workflow` and the validation problems in `details`. A draft with pinned data is "
        "published with a `warnings` entry `pins_ignored`: published versions run every node.",
        request=None,
        responses={201: VersionDetailSerializer, **_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def publish(self, request, pk=None):
        workflow = self.get_object()
        try:
            version = services.publish_workflow(workflow, request.user)
        except InvalidWorkflow as exc:
            raise ApiError("invalid_workflow", str(exc), exc.errors) from None
        data = VersionDetailSerializer(version).data
        pinned = sorted(pins_of(version.definition))
        if pinned:
            data["warnings"] = [{"code": "pins_ignored", "node_id": None, "edge": None, "path": "pins",
                                 "message": f"pinned data of {', '.join(pinned)} is ignored by published versions: "
                                            "they run every node"}]
        return Response(data, status=status.HTTP_201_CREATED)

    @extend_schema(summary="Stop running the published version from triggers", request=None,
                   responses={200: WorkflowSerializer, 404: ErrorSerializer})
    @action(detail=True, methods=["post"])
    def unpublish(self, request, pk=None):
        workflow = self.get_object()
        services.unpublish_workflow(workflow)
        return Response(self.get_serializer(workflow).data)

    @extend_schema(
        summary="Listen for test webhooks",
        description="The test URLs (`/hooks/test/<token>`) of the draft's webhook triggers run the draft for the "
        "next 2 minutes (NODEFLOW_WEBHOOK_LISTEN_S); a workflow without a webhook trigger answers 400 `no_webhook`.",
        request=None,
        responses={200: ListenSerializer, **_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def listen(self, request, pk=None):
        workflow = self.get_object()
        try:
            until = services.listen_for_test_webhooks(workflow)
        except LookupError as exc:
            raise ApiError("no_webhook", str(exc)) from None
        base = trigger_services.base_url(request)
        triggers = [t for t in trigger_services.trigger_summaries(workflow, base) if t["test_url"]]
        return Response(ListenSerializer({"listening_until": until, "triggers": triggers}).data)

    @extend_schema(summary="The published versions, newest first", responses={200: VersionSerializer(many=True),
                                                                                404: ErrorSerializer})
    @action(detail=True, methods=["get"])
    def versions(self, request, pk=None):
        workflow = self.get_object()
        versions = workflow.versions.select_related("created_by", "workflow").order_by("-number")
        page = self.paginate_queryset(versions)
        return self.get_paginated_response(VersionSerializer(page, many=True).data)

    @extend_schema(summary="One published version", responses={200: VersionDetailSerializer, 404: ErrorSerializer},
                   parameters=[OpenApiParameter("number", int, OpenApiParameter.PATH)])
    @action(detail=True, methods=["get"], url_path=r"versions/(?P<number>[0-9]{1,9})", url_name="version")
    def version(self, request, pk=None, number=None):
        workflow = self.get_object()
        version = workflow.versions.select_related("created_by", "workflow").filter(number=int(number)).first()
        if version is None:
            raise ApiError("not_found", f"the workflow has no version {number}", status_code=404)
        return Response(VersionDetailSerializer(version).data)

    @extend_schema(
        summary="Export the document",
        description="The draft by default; `?version=published` or `?version=<n>` for a published version. "
        "POST it to `import/` (format nodeflow) to make a copy.",
        parameters=[OpenApiParameter("version", str, description='"draft" (default), "published" or a number')],
        responses={200: OpenApiResponse(DRAFT_SCHEMA, description=DOCUMENT_DESCRIPTION), **_ERRORS},
    )
    @action(detail=True, methods=["get"])
    def export(self, request, pk=None):
        workflow = self.get_object()
        wanted = request.query_params.get("version", "draft")
        if wanted == "draft":
            return Response(workflow.definition)
        if wanted == "published":
            if workflow.published_version is None:
                raise ApiError("not_found", "the workflow is not published", status_code=404)
            return Response(workflow.published_version.definition)
        if not wanted.isdigit() or len(wanted) > 9:
            raise ApiError("invalid", 'version must be "draft", "published" or a version number',
                           {"version": [wanted]})
        version = workflow.versions.filter(number=int(wanted)).first()
        if version is None:
            raise ApiError("not_found", f"the workflow has no version {wanted}", status_code=404)
        return Response(version.definition)



def expected_revision(if_match, revision):
    """The revision a save was made on: `If-Match` (`"3"`, `W/"3"`, `3`; `*` means any) or the body's
    `revision`; None when neither is given (the last write wins, as for clients that never read)."""
    from_header = None
    if if_match is not None and if_match.strip() != "*":
        tag = if_match.strip().removeprefix("W/").strip('"')
        if not tag.isdigit() or len(tag) > 9 or int(tag) < 1:
            raise ApiError("invalid", 'If-Match must be the revision the change was made on, e.g. "3"',
                           {"If-Match": [if_match]})
        from_header = int(tag)
    if from_header is not None and revision is not None and from_header != revision:
        raise ApiError("invalid", f"If-Match ({from_header}) and revision ({revision}) disagree",
                       {"revision": [revision], "If-Match": [if_match]})
    return from_header if from_header is not None else revision


class _readable_documents:
    """Turns services.UnreadableDocument into a 400 whose code is the document's problem code, and
    services.CalledWorkflowNotFound (a sub-workflow node calling a workflow the user does not have) into a 404."""

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, traceback):
        if isinstance(exc, services.UnreadableDocument):
            raise ApiError(exc.error["code"], exc.error["message"], [exc.error]) from None
        if isinstance(exc, services.CalledWorkflowNotFound):  # another user's workflow is not found either
            raise ApiError("workflow_not_found", str(exc), {"path": exc.path, "workflow": exc.workflow_id},
                           status_code=404) from None
        return False


@extend_schema(
    summary="The JSON Schema of workflow documents of one api_version",
    description="`/api/schema/nodeflow/v1/` is the schema of `nodeflow/v1` documents (JSON Schema 2020-12).",
    responses={200: OpenApiTypes.OBJECT, 404: ErrorSerializer},
)
class DocumentSchemaView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    def get(self, request, major):
        try:
            return Response(document_schemas.document_schema(f"nodeflow/v{major}"))
        except LookupError:
            known = ", ".join(document_schemas.SCHEMAS)
            raise ApiError("not_found", f"no document schema nodeflow/v{major} (known: {known})",
                           status_code=404) from None
