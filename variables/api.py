"""REST API of global variables (COMPOSITION.md "Variables beyond one run"):
`GET /api/v1/variables/?prefix=&search=` (paginated), `GET|PUT|DELETE /api/v1/variables/{key}`
and `GET /api/v1/variables/{key}/history/`. Each user sees only their own keys: another user's
key answers 404 like a missing one."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from engine import globals as g
from nodeflow.api import ApiError, ErrorSerializer
from variables import services
from variables.models import Variable, VariableChange

SECRETS_NOTE = "Values are readable by every workflow of their owner and shown in the editor: secrets belong in credentials."


class AnyJSONField(serializers.JSONField):
    """Any JSON value, null included."""


class VariableSerializer(serializers.ModelSerializer):
    value = AnyJSONField(allow_null=True)

    class Meta:
        model = Variable
        fields = ["key", "value", "version", "created_at", "updated_at"]
        read_only_fields = fields


class VariableWriteSerializer(serializers.Serializer):
    value = AnyJSONField(allow_null=True, help_text="Any JSON value. " + SECRETS_NOTE)
    expected_version = serializers.IntegerField(
        required=False, min_value=0,
        help_text="Write only when the key is at this version (0: only when it does not exist yet); else 409 conflict.")


class VariableChangeSerializer(serializers.ModelSerializer):
    old = AnyJSONField(allow_null=True)
    new = AnyJSONField(allow_null=True)
    user = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = VariableChange
        fields = ["id", "key", "op", "old", "new", "old_version", "new_version", "execution_id", "node_id", "user",
                  "at", "triggers", "started", "trigger_error"]
        read_only_fields = fields


KEY = OpenApiParameter("key", str, OpenApiParameter.PATH,
                       description=f"The variable's key: {g.KEY_PATTERN} (another key answers 400)")


def _checked_key(key):
    problem = g.key_problem(key)
    if problem:
        raise ApiError("invalid", problem, {"key": [problem]})
    return key


class VariableListView(generics.ListAPIView):
    """The user's global variables by key; `prefix` keeps the keys starting with it, `search` those containing it."""

    serializer_class = VariableSerializer

    def get_queryset(self):
        rows = Variable.objects.filter(owner=self.request.user, version__gt=0).order_by("key")
        prefix, search = self.request.query_params.get("prefix"), self.request.query_params.get("search")
        if prefix:
            rows = rows.filter(key__startswith=prefix)
        if search:
            rows = rows.filter(key__icontains=search)
        return rows

    @extend_schema(operation_id="variables_list", parameters=[
        OpenApiParameter("prefix", str, description="only keys starting with this"),
        OpenApiParameter("search", str, description="only keys containing this (any case)"),
    ])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class VariableView(APIView):
    """One global variable: read, write (creates it), delete."""

    def _get(self, request, key):
        row = Variable.objects.filter(owner=request.user, key=_checked_key(key), version__gt=0).first()
        if row is None:
            raise ApiError("not_found", f"no global variable {key!r}", status_code=status.HTTP_404_NOT_FOUND)
        return row

    @extend_schema(operation_id="variables_retrieve", parameters=[KEY],
                   responses={200: VariableSerializer, 400: ErrorSerializer, 404: ErrorSerializer})
    def get(self, request, key):
        return Response(VariableSerializer(self._get(request, key)).data)

    @extend_schema(operation_id="variables_update", request=VariableWriteSerializer, parameters=[KEY],
                   responses={200: VariableSerializer, 400: ErrorSerializer, 409: ErrorSerializer})
    def put(self, request, key):
        _checked_key(key)
        if not isinstance(request.data, dict):
            raise ApiError("invalid", 'the body must be a JSON object {"value": …}', {"value": ["required"]})
        serializer = VariableWriteSerializer(data=request.data)
        if not serializer.is_valid():
            first = next(iter(serializer.errors))
            raise ApiError("invalid", f"{first}: {serializer.errors[first][0]}", serializer.errors)
        if "value" not in request.data:
            raise ApiError("invalid", "value: this field is required", {"value": ["This field is required."]})
        try:
            row = services.put(request.user, key, request.data["value"],
                               expected_version=serializer.validated_data.get("expected_version"))
        except services.InvalidValue as exc:
            field = "value" if exc.field.startswith("the value") else exc.field
            raise ApiError("invalid", str(exc), {field: [str(exc)]}) from None
        except g.GlobalConflict as exc:
            raise ApiError("conflict", str(exc), {"key": exc.key, "expected_version": exc.expected,
                                                  "version": exc.actual}, status_code=status.HTTP_409_CONFLICT) from None
        return Response(VariableSerializer(row).data)

    @extend_schema(operation_id="variables_destroy", parameters=[KEY],
                   responses={204: None, 400: ErrorSerializer, 404: ErrorSerializer})
    def delete(self, request, key):
        self._get(request, key)
        services.delete(request.user, key)
        return Response(status=status.HTTP_204_NO_CONTENT)


class VariableHistoryView(generics.ListAPIView):
    """The recorded changes of one key, newest first (kept NODEFLOW_VARIABLE_HISTORY_DAYS)."""

    serializer_class = VariableChangeSerializer

    def get_queryset(self):
        key = _checked_key(self.kwargs["key"])
        return VariableChange.objects.filter(owner=self.request.user, key=key).select_related("user")

    @extend_schema(operation_id="variables_history", parameters=[KEY],
                   responses={200: VariableChangeSerializer(many=True), 400: ErrorSerializer})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
