from django.urls import path

from . import views

app_name = "collection"

urlpatterns = [
    path("statements/", views.statement_list_view, name="statements"),
    path("statements/import/", views.statement_import_view, name="import"),
    path("queue/", views.queue_view, name="queue"),
    path("queue/run/", views.reconcile_run_view, name="reconcile_run"),
    path("queue/<int:pk>/", views.queue_action_view, name="queue_action"),
    path("ledger/", views.ledger_view, name="ledger"),
    path("overdue/", views.overdue_view, name="overdue"),
    path("receivables/<int:pk>/dunning/", views.dunning_view, name="dunning"),
    path("repurchases/", views.repurchase_list_view, name="repurchases"),
    path("repurchases/<int:pk>/", views.repurchase_decide_view, name="repurchase_decide"),
    path("reserves/", views.reserve_list_view, name="reserves"),
    path("reserves/<int:pk>/pay/", views.reserve_pay_view, name="reserve_pay"),
]
