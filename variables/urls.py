"""/api/v1/variables/…: the key is a path segment, with or without a trailing slash."""

from django.urls import path, re_path

from variables.api import VariableHistoryView, VariableListView, VariableView

urlpatterns = [
    path("", VariableListView.as_view(), name="variable-list"),
    re_path(r"^(?P<key>[^/]+)/history/?$", VariableHistoryView.as_view(), name="variable-history"),
    re_path(r"^(?P<key>[^/]+)/?$", VariableView.as_view(), name="variable-detail"),
]
