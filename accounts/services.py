"""Writes about users: demo accounts and TOTP enrolment, each audited."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.audit import audit_log

from .models import User
from .roles import ROLE_BY_CODE

DEMO_PASSWORD = "demo-pass"


@transaction.atomic
def user_ensure_demo(
    *, username: str, role: str, last_name: str, first_name: str, **fields: Any
) -> tuple[User, bool]:
    """Create (or reset) the demo user of ``role``; return it and whether it was created."""
    if role not in ROLE_BY_CODE:
        raise ValueError(f"unknown role {role!r}")
    user, created = User.objects.get_or_create(username=username)
    user.last_name, user.first_name = last_name, first_name
    user.is_demo = True
    user.is_active = True
    for name, value in fields.items():
        setattr(user, name, value)
    user.set_password(DEMO_PASSWORD)
    user.save()
    user.groups.set([Group.objects.get(name=role)])
    if created:
        audit_log(
            actor=None,
            actor_label="seed_demo",
            action="user.created",
            subject=user,
            data={"role": role, "demo": True},
        )
    return user, created


@transaction.atomic
def otp_device_for_enrolment(*, user: User) -> TOTPDevice:
    """Return the user's unconfirmed TOTP device, creating one on first visit."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="default", confirmed=False)
    return device


@transaction.atomic
def otp_confirm_enrolment(*, user: User, device: TOTPDevice, token: str) -> bool:
    """Confirm ``device`` when ``token`` is right; the enrolment is audited."""
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk, user=user)
    if not device.verify_token(token):
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    audit_log(actor=user, action="user.otp_enrolled", subject=user)
    return True
