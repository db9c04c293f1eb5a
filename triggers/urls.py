from django.urls import re_path

from triggers import views

# Any token shape reaches the view, so an unknown one answers 404 in the error envelope.
urlpatterns = [
    re_path(r"^hooks/test/(?P<token>[^/]+)/?$", views.test_hook, name="webhook-test"),
    re_path(r"^hooks/(?P<token>[^/]+)/?$", views.hook, name="webhook"),
]
