from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from credentials.api import CredentialViewSet
from executions.api import ExecutionViewSet
from executions.sse import event_stream
from importers.api import ImportView
from nodeflow import health
from nodeflow.metrics import metrics
from nodeflow.auth import TokenView
from nodes.api import NodeTypeListView
from workflows.api import DocumentSchemaView, WorkflowViewSet

router = DefaultRouter()
# No `.json` twins of every route: the API speaks JSON only, and actions do not take `format`.
router.include_format_suffixes = False
router.register("workflows", WorkflowViewSet, basename="workflow")
router.register("executions", ExecutionViewSet, basename="execution")
router.register("credentials", CredentialViewSet, basename="credential")

urlpatterns = [
    path("", include("triggers.urls")),  # /hooks/…
    path("healthz", health.healthz, name="healthz"),
    path("metrics", metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/v1/auth/token/", TokenView.as_view(), name="auth-token"),
    path("api/v1/node-types/", NodeTypeListView.as_view(), name="node-types"),
    path("api/v1/executions/<uuid:execution_id>/events/stream/", event_stream, name="execution-event-stream"),
    path("api/v1/workflows/import/", ImportView.as_view(), name="workflow-import"),  # before the router's import/
    path("api/v1/variables/", include("variables.urls")),
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/schema/nodeflow/v<int:major>/", DocumentSchemaView.as_view(), name="document-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    # The web editor last: its catch-all serves the app's pages and leaves the prefixes above alone.
    path("", include("frontend.urls")),
]

handler404 = "nodeflow.api.handler404"
handler500 = "nodeflow.outages.server_error"
