"""Routes of the web editor. The app's catch-all comes last and never answers for the
server's own prefixes, so an unknown /api/… path still gets the API's JSON 404."""

from django.urls import path, re_path

from frontend import views

app_name = "frontend"

RESERVED_PREFIXES = ("api/", "admin/", "healthz", "hooks/", "static/", "ws/", "metrics", "login/", "logout/")

urlpatterns = [
    path("login/", views.SignInView.as_view(), name="login"),
    path("logout/", views.sign_out, name="logout"),
    path("", views.app, name="app"),
    re_path(r"^(?!" + "|".join(p.replace("/", r"/") for p in RESERVED_PREFIXES) + r")(?P<path>.+)$", views.app, name="app-page"),
]
