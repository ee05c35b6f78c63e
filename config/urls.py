"""Top-level URLs: the app's pages, the REST API with its schema and docs, and the admin."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts import views as account_views

handler403 = "core.errors.permission_denied"
handler404 = "core.errors.page_not_found"
handler500 = "core.errors.server_error"

api_patterns = [
    path("", include("core.api.urls")),
    path("", include("customers.api.urls")),
    path("", include("compliance.api.urls")),
    path("", include("deals.api.urls")),
    path("credit/", include("credit.api.urls")),
    path("collection/", include("collection.api.urls")),
    path("", include("dashboard.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]

urlpatterns = [
    path("", account_views.home, name="home"),
    path("home/<str:role>/", account_views.role_home, name="role_home"),
    path("accounts/", include("accounts.urls")),
    path("", include("core.urls")),
    path("customers/", include("customers.urls")),
    path("compliance/", include("compliance.urls")),
    path("credit/", include("credit.urls")),
    path("deals/", include("deals.urls")),
    path("collection/", include("collection.urls")),
    path("dashboard/", include("dashboard.urls")),
    path("api/", include(api_patterns)),
    # One login page for everyone, so two-factor and throttling cannot be bypassed via the admin.
    path("admin/login/", RedirectView.as_view(pattern_name="accounts:login", query_string=True)),
    path("admin/", admin.site.urls),
]
