"""Demo views: account registration, and the simulated CDN country of the "Try it" page."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model, login
from django.contrib.auth.forms import UserCreationForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from cms_site.home.middleware import _COUNTRY, COOKIE


@require_POST
def simulate_country(request: HttpRequest) -> HttpResponseRedirect:
    """Set (or clear) the simulated CDN country and go back."""
    target = request.POST.get("next") or "/try-it/"
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}):
        target = "/try-it/"
    response = HttpResponseRedirect(target)
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
