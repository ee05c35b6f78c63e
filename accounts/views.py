"""Login, logout, password change, two-factor, and each role's home page."""

from __future__ import annotations

from base64 import b32encode
from io import BytesIO

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django_otp import login as otp_login
from django_otp import match_token

from core.attention import attention_items
from core.audit import audit_log
from core.selectors import attention_alerts, attention_summary

from .forms import LoginForm, TokenForm
from .roles import ROLE_BY_CODE, has_role, role_codes_of
from .services import otp_confirm_enrolment, otp_device_for_enrolment


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    form_class = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        audit_log(actor=self.request.user, action="user.login", subject=self.request.user)
        return response


class LogoutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            audit_log(actor=request.user, action="user.logout", subject=request.user)
        response = super().post(request, *args, **kwargs)
        messages.info(request, _("You have been logged out."))
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:password_change_done")

    def form_valid(self, form):
        response = super().form_valid(form)
        audit_log(
            actor=self.request.user, action="user.password_changed", subject=self.request.user
        )
        return response


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "accounts/password_change_done.html"


def _safe_next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return str(reverse_lazy("home"))


def otp_setup(request):
    """Show the enrolment QR code and confirm the first code from the authenticator app."""
    device = otp_device_for_enrolment(user=request.user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if otp_confirm_enrolment(
            user=request.user, device=device, token=form.cleaned_data["token"]
        ):
            otp_login(request, device)
            messages.success(request, _("Two-factor authentication is now set up."))
            return redirect(_safe_next(request))
        form.add_error("token", _("The code is not correct. Check the time on your device."))
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage)
    buffer = BytesIO()
    image.save(buffer)
    context = {
        "form": form,
        "qr_svg": buffer.getvalue().decode(),
        "secret": b32encode(device.bin_key).decode(),
        "next": _safe_next(request),
    }
    return render(request, "accounts/otp_setup.html", context)


def otp_verify(request):
    """Ask for the current code from the user's confirmed authenticator."""
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(request.user, form.cleaned_data["token"])
        if device is not None:
            otp_login(request, device)
            audit_log(actor=request.user, action="user.otp_verified", subject=request.user)
            return redirect(_safe_next(request))
        form.add_error("token", _("The code is not correct. Check the time on your device."))
    return render(request, "accounts/otp_verify.html", {"form": form, "next": _safe_next(request)})


def home(request):
    """Send the user to the home page of their first role."""
    codes = role_codes_of(request.user)
    if not codes:
        return render(request, "accounts/no_role.html", status=403)
    return redirect("role_home", role=codes[0])


def role_home(request, role: str):
    """Show one role's home: what needs the user's attention and the role's screens."""
    if role not in ROLE_BY_CODE:
        raise Http404
    if not has_role(request.user, role):
        raise PermissionDenied(_("This page is for another role."))
    context = {
        "role": ROLE_BY_CODE[role],
        "summary": attention_summary(user=request.user),
        "alerts": attention_alerts(user=request.user),
        "todo": attention_items(request.user),
    }
    return render(request, "accounts/home.html", context)
