from django.urls import path

from . import views

app_name = "core"

urlpatterns = [
    path("alerts/", views.alert_list_view, name="alert_list"),
    path("alerts/<int:pk>/acknowledge/", views.alert_acknowledge_view, name="alert_acknowledge"),
    path("alerts/<int:pk>/resolve/", views.alert_resolve_view, name="alert_resolve"),
    path("audit/", views.audit_list_view, name="audit_list"),
    path("audit/verify/", views.audit_verify_view, name="audit_verify"),
]
