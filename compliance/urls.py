from django.urls import path

from . import import_views, views

app_name = "compliance"

urlpatterns = [
    path("", views.compliance_home_view, name="home"),
    path("hits/", views.hit_list_view, name="hits"),
    path("hits/<int:pk>/", views.hit_review_view, name="hit_review"),
    path("customers/<int:customer_pk>/kyc/", views.kyc_create_view, name="kyc_create"),
    path("customers/<int:customer_pk>/screen/", views.screen_now_view, name="screen_now"),
    path("customers/<int:customer_pk>/clearance/", views.clearance_view, name="clearance"),
    path("kyc/", views.kyc_list_view, name="kyc_list"),
    path("watchlists/", views.watchlist_list_view, name="watchlists"),
    path("watchlists/import/", import_views.watchlist_import, name="watchlist_import"),
    path("watchlists/import/template/", import_views.watchlist_template, name="watchlist_template"),
    path("connections/", views.connection_list_view, name="connections"),
    path("connections/new/", views.connection_create_view, name="connection_create"),
    path("connections/<int:pk>/", views.connection_detail_view, name="connection_detail"),
    path(
        "connections/<int:pk>/transition/",
        views.connection_transition_view,
        name="connection_transition",
    ),
]
