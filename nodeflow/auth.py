"""POST /api/v1/auth/token/: an API token for a user name and password (API.md "Auth").

Kept apart from nodeflow.security so that the throttles there never import DRF's views."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.response import Response
from rest_framework.settings import api_settings

from nodeflow.api import ErrorSerializer
from nodeflow.security import AuthThrottle, client_address, locked_error, login_locked


class CredentialsSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, style={"input_type": "password"})


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send it as `Authorization: Token <token>`.")


class TokenView(ObtainAuthToken):
    """{username, password} → {token}: throttled (AuthThrottle), and 429 while logins of that
    name from this address are locked after repeated failures (nodeflow.security)."""

    throttle_classes = [AuthThrottle]
    parser_classes = api_settings.DEFAULT_PARSER_CLASSES

    @extend_schema(
        summary="Get an API token",
        description="Requests per client address are rate-limited (429 `throttled`); after repeated wrong "
        "passwords, logins of that user name from that address are refused for a while (429 "
        "`too_many_login_failures`).",
        request=CredentialsSerializer,
        responses={200: TokenSerializer, 400: ErrorSerializer, 429: ErrorSerializer},
        auth=[],
    )
    def post(self, request, *args, **kwargs):
        username = request.data.get("username") if isinstance(request.data, dict) else None
        if isinstance(username, str) and login_locked(username, client_address(request)):
            raise locked_error()
        serializer = AuthTokenSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        token, _ = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return Response({"token": token.key})
