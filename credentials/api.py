"""REST API of credentials (API.md "Credentials"): `data` is write-only, answers show which fields are set."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from credentials import services
from credentials.models import Credential
from credentials.types import MAX_VALUE_CHARS, TYPES
from nodeflow.api import ApiError, ErrorSerializer

DATA_HELP = (
    "The credential's fields, all strings; write-only, never returned. By type: http_header {name, value}; "
    "http_basic {username, password}; bearer {token}; oauth2_client_credentials {token_url, client_id, "
    "client_secret, scope, client_auth}; generic: any fields. On PATCH the given fields replace the stored ones "
    "(null removes an optional field); a new type needs its whole data."
)


class StrictCharField(serializers.CharField):
    """A string, and only a string (DRF's CharField turns 5 into "5")."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class CredentialDataField(serializers.DictField):
    """`data`: string fields (null removes a field on PATCH); checked against the type by the service."""

    child = StrictCharField(allow_blank=True, allow_null=True, trim_whitespace=False, max_length=MAX_VALUE_CHARS)

    def __init__(self, **kwargs):
        super().__init__(write_only=True, help_text=DATA_HELP, **kwargs)


class CredentialSerializer(serializers.ModelSerializer):
    type = serializers.ChoiceField(choices=sorted(TYPES))
    data = CredentialDataField()
    fields_set = serializers.ListField(child=serializers.CharField(), read_only=True,
                                       help_text="Names of the fields that hold a value (the values are never shown).")

    class Meta:
        model = Credential
        fields = ["id", "name", "type", "data", "fields_set", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]
        extra_kwargs = {"name": {"max_length": 200}}
        # The owner-and-name uniqueness is checked by the service (a clear 400), not by DRF's validator.
        validators = []


class CredentialTypeFieldSerializer(serializers.Serializer):
    name = serializers.CharField()
    required = serializers.BooleanField()
    secret = serializers.BooleanField()


class CredentialTypeSerializer(serializers.Serializer):
    type = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    fields = CredentialTypeFieldSerializer(many=True)
    any_fields = serializers.BooleanField(help_text="Any string fields may be given (generic).")


_ERRORS = {400: ErrorSerializer, 404: ErrorSerializer}


@extend_schema_view(
    list=extend_schema(summary="List your credentials (names, types and which fields are set)"),
    retrieve=extend_schema(summary="A credential, without its values", responses={200: CredentialSerializer,
                                                                                 404: ErrorSerializer}),
    create=extend_schema(summary="Store a credential (encrypted)", responses={201: CredentialSerializer,
                                                                              400: ErrorSerializer}),
    partial_update=extend_schema(summary="Rename a credential or change its values",
                                 responses={200: CredentialSerializer, **_ERRORS}),
    destroy=extend_schema(summary="Delete a credential", responses={204: None, 404: ErrorSerializer}),
)
class CredentialViewSet(mixins.CreateModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin,
                        mixins.DestroyModelMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = CredentialSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    lookup_value_regex = "[0-9a-fA-F-]{32,36}"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular inspecting the view
            return Credential.objects.none()
        return Credential.objects.filter(owner=self.request.user)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = serializer.validated_data
        with _invalid_as_400():
            credential = services.create_credential(request.user, values["name"], values["type"], values["data"])
        return Response(self.get_serializer(credential).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        credential = self.get_object()
        serializer = self.get_serializer(credential, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        values = serializer.validated_data
        with _invalid_as_400():
            credential = services.update_credential(credential, name=values.get("name"), type_=values.get("type"),
                                                    data=values.get("data"))
        return Response(self.get_serializer(credential).data)

    def perform_destroy(self, credential):
        services.delete_credential(credential)

    @extend_schema(summary="The credential types and their fields", responses={200: CredentialTypeSerializer(many=True)})
    @action(detail=False, methods=["get"], pagination_class=None)
    def types(self, request):
        return Response([credential_type.as_dict() for credential_type in TYPES.values()])


class _invalid_as_400:
    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, traceback):
        if isinstance(exc, services.InvalidCredential):
            raise ApiError("invalid", str(exc), {name: [message] for name, message in exc.problems.items()}) from None
        return False
