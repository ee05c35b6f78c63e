from django.urls import path

from . import views

app_name = "collection"

urlpatterns = [
    path("statements/", views.statement_list_view, name="statements"),
    path("statements/import/", views.statement_import_view, name="import"),
]
