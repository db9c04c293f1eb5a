"""API plumbing shared by the apps: the error envelope of API.md, and a JSON parser with limits.

Every error answer is `{"error": {"code", "message", "details"}}` with a 4xx status for
a client mistake; a request that breaks a limit (body size, nesting) is one of those,
never a 500."""

import copy
import json

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404, JsonResponse
from django.views.defaults import page_not_found
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import exceptions, parsers, serializers, status
from rest_framework.response import Response

from engine import document as document_schemas

# Deeper JSON than this is refused at the door: nothing NodeFlow stores needs it, and
# every recursive walk after parsing (validation, expressions, the JSON column) stays safe.
MAX_JSON_DEPTH = 100


def error_body(code, message, details=None):
    """The error envelope every answer of a refusal has: {"error": {"code", "message", "details"}}."""
    return {"error": {"code": code, "message": message, "details": details}}


def error_response(status, code, message, details=None, headers=None):
    """error_body as a JsonResponse, for views outside DRF (webhooks, SSE, /metrics, handlers)."""
    response = JsonResponse(error_body(code, message, details), status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


class ApiError(exceptions.APIException):
    """A client mistake with a stable code: rendered as {"error": {"code", "message", "details"}}."""

    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(self, code, message, details=None, status_code=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details
        if status_code is not None:
            self.status_code = status_code


_CODES = {
    exceptions.ParseError: "malformed_request",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.PermissionDenied: "permission_denied",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.Throttled: "throttled",
    exceptions.ValidationError: "invalid",
}


class PayloadTooLarge(ApiError):
    """The request body (or the document in it) is over the configured size."""

    def __init__(self, message, code="payload_too_large"):
        super().__init__(code, message, status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)


def unstorable_json(value):
    """Why a parsed JSON value cannot be stored, or None: nesting deeper than MAX_JSON_DEPTH, or a
    string (key or value) PostgreSQL's jsonb refuses: one holding NUL (\\u0000) or an unpaired
    surrogate (\\ud800 alone: valid JSON escapes, but not text). Walks without recursion."""
    pending = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            if not _storable_text(item):
                return f"a string holds NUL (\\u0000) or an unpaired surrogate: {item[:40]!r}"
        elif isinstance(item, (dict, list)):
            if depth >= MAX_JSON_DEPTH:
                return f"the body nests deeper than {MAX_JSON_DEPTH} levels"
            if isinstance(item, dict):
                pending.extend((key, depth) for key in item)
                item = item.values()
            pending.extend((child, depth + 1) for child in item if isinstance(child, (str, dict, list)))
    return None


def _storable_text(text):
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, also refusing (400) what would fail later as a 500: nesting past
    MAX_JSON_DEPTH, and strings PostgreSQL cannot store (see unstorable_json)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError(f"JSON parse error - the body nests deeper than {MAX_JSON_DEPTH} levels")
        problem = unstorable_json(data)
        if problem:
            raise exceptions.ParseError(f"JSON parse error - {problem}")
        return data


def exception_handler(exc, context):
    # Imported here: rest_framework.views reads DEFAULT_PARSER_CLASSES, which names this
    # module's JSONParser, when it is first imported.
    from rest_framework.views import exception_handler as drf_exception_handler

    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        exc = PayloadTooLarge(f"the request body is larger than {limit} bytes")
    elif isinstance(exc, SuspiciousOperation):
        exc = ApiError("malformed_request", str(exc) or "the request was refused")
    if isinstance(exc, ApiError):
        return Response(error_body(exc.code, exc.message, exc.details), status=exc.status_code)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    code = next((c for cls, c in _CODES.items() if isinstance(exc, cls)), "error")
    if isinstance(exc, exceptions.ValidationError):
        message = _first_message(exc.detail)
        details = exc.detail
    else:
        message = str(exc.detail) if hasattr(exc, "detail") else str(exc)
        details = None
    response.data = error_body(code, message, details)
    return response


def _first_message(detail, prefix=""):
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = key if key != "non_field_errors" else ""
            return _first_message(value, f"{prefix}{name}: " if name else prefix)
    if isinstance(detail, list) and detail:
        return _first_message(detail[0], prefix)
    return f"{prefix}{detail}"


def handler404(request, exception=None):
    """Django's 404 (no route matched): in the error envelope under /api/, the usual page elsewhere."""
    if request.path.startswith("/api/"):
        return error_response(404, "not_found", f"no API endpoint at {request.path}")
    return page_not_found(request, exception)


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, snake_case: clients match on it.")
    message = serializers.CharField(help_text="For people.")
    details = serializers.JSONField(allow_null=True, help_text="Structured detail: field errors, validation problems.")


class ErrorSerializer(serializers.Serializer):
    """The body of every error answer (documents the envelope in the OpenAPI schema)."""

    error = ErrorDetailSerializer()


# ---------------------------------------------------------------------------
# The OpenAPI schema


def _auto_schema_base():
    from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema

    return SpectacularAutoSchema


class AutoSchema(_auto_schema_base()):
    """drf-spectacular's schema of an operation, plus the error answers every operation can give
    (API.md: "Errors are JSON … with a 4xx status"), each in the error envelope: 400 for input,
    401/403 for authentication, 404 for an id in the path, 413/415 for bodies, 429 when throttled.
    Responses an operation declares itself are kept."""

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code, description in self._error_codes():
            if str(code) not in responses:
                responses[str(code)] = self._get_response_for_code(
                    _error_response(description), str(code), direction=direction)
        return responses

    def _error_codes(self):
        from rest_framework.permissions import AllowAny

        codes = []
        has_body = self.method in ("POST", "PUT", "PATCH")
        has_query = any(p.get("in") == "query" for p in self._get_parameters())
        if has_body or has_query:
            codes.append((400, "The input is invalid (code `invalid`, field errors in `details`) or malformed."))
        if not all(isinstance(p, AllowAny) for p in self.view.get_permissions()):
            codes.append((401, "No or invalid credentials."))
            codes.append((403, "Not allowed (a session without its CSRF token)."))
        if "{" in self.path:
            codes.append((404, "No such object of yours (another user's objects answer 404 too)."))
        if has_body:
            codes.append((413, "The request body or the document in it is over the size limit."))
            codes.append((415, "The body is not JSON (or form data)."))
        if self.view.get_throttles():
            codes.append((429, "Too many requests (code `throttled`, see Retry-After)."))
        return codes


def _error_response(description):
    from drf_spectacular.utils import OpenApiResponse

    return OpenApiResponse(ErrorSerializer, description=description)


def collapse_nullable_any(result, generator, request, public):
    """drf-spectacular writes a nullable JSON field as oneOf [{}, {"type": "null"}], which no value
    satisfies (null matches both); "any JSON value" ({}) already includes null."""

    def walk(node):
        if isinstance(node, dict):
            one_of = node.get("oneOf")
            if isinstance(one_of, list) and len(one_of) == 2 and {"type": "null"} in one_of:
                other = one_of[0] if one_of[1] == {"type": "null"} else one_of[1]
                if isinstance(other, dict) and not set(other) - {"description", "title"}:
                    del node["oneOf"]
                    node.update({k: v for k, v in other.items() if k not in node})
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(result)
    return result


def document_event_stream(result, generator, request, public):
    """The SSE endpoint is a plain (async) Django view, which drf-spectacular does not see: describe it."""
    error = {"$ref": "#/components/schemas/Error"}
    result.setdefault("paths", {})["/api/v1/executions/{execution_id}/events/stream/"] = {
        "get": {
            "operationId": "executions_events_stream",
            "summary": "The execution's events as Server-Sent Events",
            "description": "Each event as `id: <seq>`, `event: <type>`, `data: <the event as in events/>`; resumable "
            "with Last-Event-ID (or ?after=seq); ends with an `end` event once the execution is finished.",
            "tags": ["executions"],
            "parameters": [
                {"name": "execution_id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}},
                {"name": "after", "in": "query", "required": False, "schema": {"type": "integer"},
                 "description": "Send the events after this seq."},
            ],
            "security": [{"tokenAuth": []}, {"cookieAuth": []}],
            "responses": {
                "200": {"description": "The stream: one object per event.", "content": {"text/event-stream": {"schema": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string", "description": "The event's seq."},
                        "event": {"type": "string", "description": "The event's type, or `end`."},
                        "data": {"type": "string", "description": "The event as JSON (as in events/)."},
                        "retry": {"type": "integer"},
                    },
                }}}},
                "400": {"description": "after / Last-Event-ID is not a number.",
                        "content": {"application/json": {"schema": error}}},
                "401": {"description": "No or invalid credentials.", "content": {"application/json": {"schema": error}}},
                "404": {"description": "No such execution of yours.", "content": {"application/json": {"schema": error}}},
            },
        }
    }
    return result


# -- the workflow document, as a field of the workflow and execution APIs

DOCUMENT_DESCRIPTION = (
    "The workflow document (FORMAT.md, `nodeflow/v1`); its JSON Schema is also served at "
    "`/api/schema/nodeflow/v1/`."
)


class DocumentField(serializers.JSONField):
    """A workflow document no larger than NODEFLOW["MAX_DOCUMENT_BYTES"] (413 when larger).

    With `objects_only`, anything but a JSON object is a 400; without, any JSON value
    passes (validation then answers invalid_document)."""

    def __init__(self, *args, objects_only=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.objects_only = objects_only

    def to_internal_value(self, data):
        data = super().to_internal_value(data)
        # A document sent as a form field is parsed here, past the JSON parser's checks.
        problem = unstorable_json(data)
        if problem:
            raise serializers.ValidationError(f"cannot be stored: {problem}")
        if self.objects_only and not isinstance(data, dict):
            raise serializers.ValidationError("must be a JSON object (a nodeflow/v1 document)")
        limit = settings.NODEFLOW["MAX_DOCUMENT_BYTES"]
        size = len(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode())
        if size > limit:
            raise PayloadTooLarge(f"the document is {size} bytes; the limit is {limit}", code="document_too_large")
        return data


class DocumentFieldSchema(OpenApiSerializerFieldExtension):
    """The document's JSON Schema as the `WorkflowDocument` component of the OpenAPI schema."""

    target_class = DocumentField

    def get_name(self):
        return "WorkflowDocument"

    def map_serializer_field(self, auto_schema, direction):
        # A deep copy: drf-spectacular's post-processing rewrites enums in place.
        schema = copy.deepcopy(document_schemas.embeddable(document_schemas.DOCUMENT_SCHEMA_V1))
        return {**schema, "description": DOCUMENT_DESCRIPTION}
