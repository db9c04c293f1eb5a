"""POST /api/v1/workflows/import/ (IMPORT.md): nodeflow, n8n and stageflow documents → a new draft."""

import json

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from importers import services
from importers.report import NotThisFormat
from nodeflow.api import ApiError, DocumentField, ErrorSerializer, PayloadTooLarge
from workflows import services as workflow_services
from workflows.api import SavedWorkflowSerializer


class ImportedDocumentField(DocumentField):
    """A document as a JSON object, or as the text of a file (parsed here, so "not JSON" is named)."""

    def to_internal_value(self, data):
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError as exc:
                raise ApiError("not_json", f"the document is not JSON: {exc}", {"document": [str(exc)]}) from None
            except RecursionError:
                raise ApiError("not_json", "the document nests too deeply to be read") from None
        return super().to_internal_value(data)


class ImportSerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=services.FORMATS, default="nodeflow",
                                     help_text="nodeflow (an exported document), n8n (a workflow as n8n exports it) "
                                               "or stageflow (a JSON pipeline).")
    document = ImportedDocumentField(help_text="The document to import: a JSON object, or a file's text.")
    name = serializers.CharField(max_length=200, required=False, help_text="Defaults to the document's name.")


class ImportReportSerializer(serializers.Serializer):
    translated = serializers.ListField(child=serializers.DictField(), help_text='[{"from", "to", "notes"}]')
    untranslated = serializers.ListField(child=serializers.DictField(), help_text='[{"from", "reason"}]')
    warnings = serializers.ListField(child=serializers.CharField())
    pins = serializers.DictField(required=False, help_text="n8n pinData as {node id: output}.")


class ImportedWorkflowSerializer(SavedWorkflowSerializer):
    import_report = ImportReportSerializer(read_only=True)

    class Meta(SavedWorkflowSerializer.Meta):
        fields = [*SavedWorkflowSerializer.Meta.fields, "import_report"]


class ImportView(APIView):
    @extend_schema(
        operation_id="workflows_import_create",
        summary="Import a document as a new workflow",
        description="nodeflow, n8n or stageflow. The draft is stored even when invalid (its `validation` says "
        "why); `import_report` lists what was translated, what was not (a flow.noop placeholder stands in for "
        "it) and warnings. Nothing is stored when the import fails.",
        request=ImportSerializer,
        responses={201: ImportedWorkflowSerializer,
                   400: OpenApiResponse(ErrorSerializer, description="Not JSON (`not_json`), not the format it "
                                        "claims (`not_this_format`), over the size limit (`document_too_large`), or "
                                        "not a readable document."),
                   413: OpenApiResponse(ErrorSerializer, description="The request body is over the size limit.")},
        tags=["workflows"],
    )
    def post(self, request):
        serializer = ImportSerializer(data=request.data)
        try:
            serializer.is_valid(raise_exception=True)
        except PayloadTooLarge as exc:
            # A file too large to import is a bad document like the others (IMPORT.md: a clear 400).
            raise ApiError("document_too_large", exc.message) from None
        data = serializer.validated_data
        try:
            workflow, errors, report = services.import_workflow(request.user, data["format"], data["document"],
                                                                data.get("name"))
        except NotThisFormat as exc:
            raise ApiError("not_this_format", f"the document is not {data['format']}: {exc}",
                           {"format": data["format"], **exc.details}) from None
        except workflow_services.UnreadableDocument as exc:
            raise ApiError(exc.error["code"], exc.error["message"], [exc.error]) from None
        body = SavedWorkflowSerializer(workflow, context={"request": request}).data
        body["validation"] = {"valid": not errors, "errors": errors}
        body["import_report"] = report
        return Response(body, status=status.HTTP_201_CREATED)
