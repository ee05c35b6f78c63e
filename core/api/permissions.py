"""Default API permission: Django model permissions, including view permission for reads."""

from rest_framework.permissions import BasePermission, DjangoModelPermissions


class ModelPermissions(DjangoModelPermissions):
    """Require the model's view/add/change/delete permission; views without a queryset pass.

    A viewset may map an action to the permissions it needs in ``action_permissions``.
    """

    perms_map = {
        **DjangoModelPermissions.perms_map,
        "GET": ["%(app_label)s.view_%(model_name)s"],
        "OPTIONS": ["%(app_label)s.view_%(model_name)s"],
        "HEAD": ["%(app_label)s.view_%(model_name)s"],
    }

    def has_permission(self, request, view):
        # A custom action (acknowledge, review, transition …) names its own permissions.
        required = getattr(view, "action_permissions", {}).get(getattr(view, "action", None))
        if required is not None:
            return bool(request.user and request.user.has_perms(required))
        if getattr(view, "queryset", None) is None and not hasattr(view, "get_queryset"):
            return True
        return super().has_permission(request, view)


class HasPerms(BasePermission):
    """Require every permission the view lists in ``required_perms`` (views that are not
    about one model: a calculation, a dashboard)."""

    def has_permission(self, request, view):
        return bool(request.user and request.user.has_perms(view.required_perms))
