from django.urls import path, register_converter

from . import views


class DealNumberConverter:
    regex = r"\d{4}-\d{4,}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(DealNumberConverter, "deal")

app_name = "deals"

urlpatterns = [
    path("", views.kanban_view, name="kanban"),
    path("list/", views.deal_list_view, name="list"),
    path("new/", views.deal_create_view, name="create"),
    path("tasks/", views.tasks_view, name="tasks"),
    path("export/", views.export_view, name="export"),
    path("filters/", views.saved_filter_save_view, name="filter_save"),
    path("filters/<int:pk>/delete/", views.saved_filter_delete_view, name="filter_delete"),
    path("approvals/", views.approval_inbox_view, name="approvals"),
    path("approvals/<int:pk>/", views.approval_detail_view, name="approval"),
    path("customers/<int:pk>/panel/", views.customer_panel_view, name="customer_panel"),
    path("<deal:number>/", views.deal_detail_view, name="detail"),
    path("<deal:number>/edit/", views.deal_edit_view, name="edit"),
    path("<deal:number>/price/", views.price_view, name="price"),
    path("<deal:number>/check/<str:what>/", views.check_view, name="check"),
    path("<deal:number>/transition/", views.transition_view, name="transition"),
    path("<deal:number>/receivables/new/", views.receivable_create_view, name="receivable_add"),
    path("<deal:number>/receivables/<int:pk>/", views.receivable_edit_view, name="receivable_edit"),
    path(
        "<deal:number>/receivables/<int:pk>/delete/",
        views.receivable_delete_view,
        name="receivable_delete",
    ),
]
