"""Pages of the web editor: the single-page app (behind the login) and sign-in/out."""

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_http_methods

from frontend import assets
from nodeflow.security import client_address, login_locked

LOCKED_MESSAGE = "Too many failed sign-ins from here. Wait a few minutes, then try again."


SANDBOX_FIX = "sudo apt-get install bubblewrap libseccomp2"


def sandbox_notice():
    """What the code node's panel says when code nodes cannot run fully isolated on this server (null when
    they can): its mode, why, and the one command that fixes it (issue 25)."""
    import sandbox

    status = sandbox.sandbox_status()
    if status["mode"] == "bwrap+seccomp":
        return None
    return {"mode": status["mode"], "detail": status["detail"], "fix": SANDBOX_FIX}


@login_required
@ensure_csrf_cookie
def app(request, path=""):
    """The editor app for every page of it (`/`, `/workflows/<id>`, …); it routes in the browser."""
    try:
        bundle = assets.bundle()
    except assets.BundleMissing as exc:
        return render(request, "frontend/bundle_missing.html", {"message": str(exc)}, status=503)
    config = {
        "baseUrl": reverse("frontend:app"),
        # The API's root, wherever the project mounts it.
        "apiRoot": reverse("node-types").removesuffix("node-types/"),
        "documentSchemaUrl": reverse("document-schema", kwargs={"major": 1}),
        "loginUrl": reverse("frontend:login"),
        "logoutUrl": reverse("frontend:logout"),
        "user": {"username": request.user.get_username()},
        "version": getattr(settings, "NODEFLOW_VERSION", ""),
        "sandbox": sandbox_notice(),
    }
    response = render(request, "frontend/index.html", {"bundle": bundle, "config": config})
    response["Cache-Control"] = "no-store"
    return response


class SignInView(LoginView):
    template_name = "frontend/login.html"
    redirect_authenticated_user = True

    def form_invalid(self, form):
        # The authentication backend refuses locked-out names without saying so; say it here.
        if login_locked(form.data.get("username") or "", client_address(self.request)):
            form.errors.clear()
            form.add_error(None, LOCKED_MESSAGE)
        return super().form_invalid(form)


@require_http_methods(["GET", "POST"])
def sign_out(request):
    """POST signs out (Django refuses a GET logout, so a link cannot sign anyone out); GET asks first."""
    if request.method == "POST":
        logout(request)
        return redirect("frontend:login")
    if not request.user.is_authenticated:
        return redirect("frontend:login")
    return render(request, "frontend/logout.html")
