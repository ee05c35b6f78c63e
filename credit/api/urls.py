from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import (
    CheckLimitView,
    CreditLimitViewSet,
    ExposureEntryViewSet,
    ExposureView,
    FundingView,
    RatingViewSet,
)

router = SimpleRouter()
router.register("ratings", RatingViewSet, basename="rating")
router.register("limits", CreditLimitViewSet, basename="creditlimit")
router.register("ledger", ExposureEntryViewSet, basename="exposureentry")

urlpatterns = [
    path("exposure/<int:customer_id>/", ExposureView.as_view(), name="credit-exposure"),
    path("check-limit/", CheckLimitView.as_view(), name="credit-check-limit"),
    path("funding/", FundingView.as_view(), name="credit-funding"),
    *router.urls,
]
