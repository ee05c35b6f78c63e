from django.urls import path

from .views import DashboardView, DrillView

urlpatterns = [
    path("dashboard/", DashboardView.as_view(), name="api-dashboard"),
    path("dashboard/drill/", DrillView.as_view(), name="api-dashboard-drill"),
]
