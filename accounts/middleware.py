"""Everything needs a login except the login page; approvers and admins need TOTP when required."""

from django.conf import settings
from django.contrib.auth import middleware as auth_middleware
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

from .roles import has_role

API_PREFIX = "/api/"


class LoginRequiredMiddleware(auth_middleware.LoginRequiredMiddleware):
    """Django's login-required default; the API is left to DRF, which answers 401/403."""

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path.startswith(API_PREFIX):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


def otp_required_for(user) -> bool:
    """Return True when ``user`` must pass a TOTP check before using the app."""
    return bool(
        settings.OTP_REQUIRED
        and user.is_authenticated
        and has_role(user, *settings.OTP_REQUIRED_ROLES)
    )


class OTPRequiredMiddleware:
    """Send an unverified approver or admin to TOTP set-up or verification."""

    EXEMPT_URL_NAMES = ("accounts:otp_setup", "accounts:otp_verify", "accounts:logout")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if otp_required_for(user) and not user.is_verified():
            exempt = {reverse(name) for name in self.EXEMPT_URL_NAMES}
            if request.path not in exempt and not request.path.startswith(settings.STATIC_URL):
                # A session user on the API; token clients are authenticated later, by DRF.
                if request.path.startswith(API_PREFIX):
                    return JsonResponse({"detail": "二要素認証が必要です。"}, status=403)
                return redirect(_otp_url(user, request.get_full_path()))
        return self.get_response(request)


def _otp_url(user, next_path: str) -> str:
    from django_otp import devices_for_user

    name = "accounts:otp_verify" if any(devices_for_user(user)) else "accounts:otp_setup"
    return f"{reverse(name)}?next={next_path}"
