"""Log-in plumbing: the name django-axes counts failures under."""


def axes_username(request, credentials: dict | None) -> str | None:
    """allauth authenticates with `email=`, the token API with `username=`, the admin form posts
    `username`, allauth's form posts `login`: count them all under the same lower-cased e-mail."""
    credentials = credentials or {}
    value = credentials.get("email") or credentials.get("username")
    if not value and request is not None and hasattr(request, "POST"):
        value = request.POST.get("login") or request.POST.get("username") or request.POST.get("email")
    return value.strip().lower() if isinstance(value, str) and value.strip() else None


def axes_lockout_response(request, *args, **kwargs):
    """What a locked-out log-in gets: JSON for the API, a page for people (HTTP 429 both)."""
    from django.http import JsonResponse
    from django.shortcuts import render
    from django.utils.translation import gettext as _

    message = _("Too many failed log-in attempts. Try again in 15 minutes or reset your password.")
    if request.path.startswith("/api/"):
        return JsonResponse({"message": message, "code": "locked_out"}, status=429)
    return render(request, "marketplace/locked_out.html", {"message": message}, status=429)
