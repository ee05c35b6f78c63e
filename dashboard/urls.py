from django.urls import path

from . import views

app_name = "dashboard"

urlpatterns = [
    path("", views.dashboard_view, name="home"),
    path("drill/", views.drill_view, name="drill"),
    path("assumptions/", views.assumptions_view, name="assumptions"),
    path("export.xlsx", views.export_view, name="export"),
]
