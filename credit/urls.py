from django.urls import path

from . import views

app_name = "credit"

urlpatterns = [
    path("", views.counterparty_list_view, name="list"),
    path("calculator/", views.calculator_view, name="calculator"),
    path("sheet/", views.sheet_view, name="sheet"),
    path("limits/inbox/", views.limit_inbox_view, name="inbox"),
    path("limits/<int:pk>/decide/", views.limit_decide_view, name="limit_decide"),
    path("limits/<int:pk>/reinstate/", views.limit_reinstate_view, name="limit_reinstate"),
    path("counterparties/<int:pk>/", views.counterparty_view, name="counterparty"),
    path("counterparties/<int:pk>/panel/", views.panel_view, name="panel"),
    path("counterparties/<int:pk>/check/", views.check_view, name="check"),
    path("counterparties/<int:pk>/limits/new/", views.limit_propose_view, name="limit_propose"),
    path("counterparties/<int:pk>/ratings/new/", views.rating_create_view, name="rating_create"),
]
