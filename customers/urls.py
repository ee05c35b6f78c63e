from django.urls import path

from . import import_views, views

app_name = "customers"

urlpatterns = [
    path("", views.customer_list_view, name="list"),
    path("new/", views.customer_create_view, name="create"),
    path("similar/", views.similar_check_view, name="similar"),
    path("import/", import_views.customer_import, name="import"),
    path("import/template/", import_views.customer_import_template, name="import_template"),
    path("export/", import_views.customer_export, name="export"),
    path("changes/", views.change_list_view, name="changes"),
    path("changes/<int:pk>/approve/", views.change_approve_view, name="change_approve"),
    path("changes/<int:pk>/reject/", views.change_reject_view, name="change_reject"),
    path("duplicates/", views.duplicate_list_view, name="duplicates"),
    path("duplicates/<int:pk>/dismiss/", views.duplicate_dismiss_view, name="duplicate_dismiss"),
    path("merge/<int:survivor>/<int:merged>/", views.merge_view, name="merge"),
    path("merges/<int:pk>/undo/", views.merge_undo_view, name="merge_undo"),
    path("<int:pk>/", views.customer_detail_view, name="detail"),
    path("<int:pk>/edit/", views.customer_edit_view, name="edit"),
    path("<int:pk>/persons/", views.person_add_view, name="person_add"),
    path("persons/<int:pk>/reveal/", views.person_reveal_view, name="person_reveal"),
    path("<int:pk>/accounts/", views.account_request_view, name="account_request"),
    path("<int:pk>/contacts/", views.contact_add_view, name="contact_add"),
    path("<int:pk>/documents/", views.document_upload_view, name="document_upload"),
    path("documents/<int:pk>/download/", views.document_download_view, name="document_download"),
    path("<int:pk>/transfer-names/", views.transfer_name_add_view, name="transfer_name_add"),
]
