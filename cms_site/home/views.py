"""Demo views: account registration, a fitting request, and the simulated CDN country."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.forms import UserCreationForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

import personalize
from cms_site.home.middleware import _COUNTRY, COOKIE

#: The custom event a fitting request records (the demo's scoring rule gives it 25 points).
FITTING_EVENT = "demo_request"


def _back(request: HttpRequest, default: str) -> str:
    """The ``next`` field when it is a URL on this site, else ``default``."""
    target = request.POST.get("next") or default
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return default
    return target


@require_POST
def request_fitting(request: HttpRequest) -> HttpResponseRedirect:
    """Record a fitting request as the custom event ``demo_request`` and go back.

    This is how a site reports a conversion from its own code: ``personalize.track()`` scores
    the event for a visitor who allowed personalization and does nothing for anyone else.
    """
    tracked = personalize.track(request, FITTING_EVENT)
    if tracked:
        messages.success(
            request,
            "Thank you: your fitting request is noted. A real shop would now ask for a time; "
            "here it added 25 points to your engagement score.",
        )
    else:
        messages.info(
            request,
            "Thank you: your fitting request is noted. It is not added to a profile, because "
            "you have not allowed personalization.",
        )
    return HttpResponseRedirect(_back(request, "/try-it/#fitting"))


@require_POST
def simulate_country(request: HttpRequest) -> HttpResponseRedirect:
    """Set (or clear) the simulated CDN country and go back."""
    response = HttpResponseRedirect(_back(request, "/try-it/"))
    country = request.POST.get("country", "").upper()
    if _COUNTRY.match(country):
        response.set_cookie(COOKIE, country, max_age=86400, samesite="Lax")
    else:
        response.delete_cookie(COOKIE)
    return response


class RegistrationForm(UserCreationForm):
    """Sign-up with a first name and an email address."""

    first_name = forms.CharField(max_length=150, label="First name")
    email = forms.EmailField(label="Email")

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "first_name", "email")


def register(request: HttpRequest) -> HttpResponse:
    """Create an account, log in and go back to where the visitor came from."""
    target = request.POST.get("next") or request.GET.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}):
        target = "/"
    if request.method == "POST":
        form = RegistrationForm(request.POST)
        if form.is_valid():
            user = form.save()
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return HttpResponseRedirect(target)
    else:
        form = RegistrationForm()
    return render(request, "registration/register.html", {"form": form, "next": target})
