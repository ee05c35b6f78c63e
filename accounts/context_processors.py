"""Template context for the layout: the user's roles and menu."""

from django.urls import reverse

from .navigation import nav_for
from .roles import ROLE_BY_CODE, role_codes_of


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    roles = [
        {
            "code": code,
            "label": ROLE_BY_CODE[code].label,
            "url": reverse("role_home", args=[code]),
        }
        for code in role_codes_of(user)
    ]
    return {
        "nav_roles": roles,
        "nav_items": nav_for(user),
        "role_labels": {code: role.label for code, role in ROLE_BY_CODE.items()},
    }
