"""The node-type catalog (API.md "Catalog"): what the editor builds its palette and forms from.

It is read from the registry, the only list of node types."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from nodes.registry import registry


class PortsSerializer(serializers.Serializer):
    # `in` is a Python keyword, so the port lists are declared by name below.
    dynamic = serializers.BooleanField(help_text="Output ports depend on params (logic.switch: one per case).")

    def get_fields(self):
        fields = super().get_fields()
        fields["in"] = serializers.ListField(child=serializers.CharField())
        fields["out"] = serializers.ListField(
            child=serializers.CharField(),
            help_text='Static output ports; a node with on_error "route" also has an `error` port.',
        )
        return fields


class NodeTypeSerializer(serializers.Serializer):
    """One version of one node type (documents the catalog in the OpenAPI schema)."""

    type = serializers.CharField()
    version = serializers.IntegerField()
    latest = serializers.BooleanField(help_text="Whether this is the type's newest version (used when a node omits it).")
    title = serializers.CharField()
    category = serializers.CharField()
    description = serializers.CharField()
    params_schema = serializers.DictField(help_text="JSON Schema (2020-12) of the node's params.")
    defaults = serializers.DictField(help_text="Values of params a node leaves out.")
    ports = PortsSerializer()
    trigger = serializers.BooleanField()
    queue = serializers.CharField()
    raw_params = serializers.ListField(
        child=serializers.CharField(), help_text="Params taken as written: no {{ expressions }} (code, JsonLogic)."
    )
    jsonlogic_params = serializers.ListField(
        child=serializers.CharField(), help_text='Params holding JsonLogic rules, e.g. "condition", "cases.*.condition".'
    )


def catalog(type_name=None, latest_only=False):
    """Catalog entries of the registered node types, by type then version."""
    entries = []
    for node_type in registry.all():
        if type_name is not None and node_type.type != type_name:
            continue
        latest = node_type.version == registry.latest_version(node_type.type)
        if latest_only and not latest:
            continue
        entries.append({
            **node_type.catalog_entry(latest=latest),
            "raw_params": sorted(node_type.raw_params),
            "jsonlogic_params": list(node_type.jsonlogic_params),
        })
    return entries


class NodeTypeListView(APIView):
    @extend_schema(
        summary="The node-type catalog",
        description="Every registered node type and version with its parameter schema, defaults and ports.",
        parameters=[
            OpenApiParameter("type", str, description="Only this type (all its versions)."),
            OpenApiParameter("latest", bool, description="Only the latest version of each type."),
        ],
        responses={200: NodeTypeSerializer(many=True)},
    )
    def get(self, request):
        latest_only = request.query_params.get("latest", "").lower() in ("1", "true", "yes")
        return Response(catalog(request.query_params.get("type"), latest_only))
