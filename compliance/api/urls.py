from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import (
    ClearanceView,
    ConnectionApprovalViewSet,
    KycRecordViewSet,
    ScreeningHitViewSet,
    ScreeningRunViewSet,
)

router = SimpleRouter()
router.register("kyc-records", KycRecordViewSet, basename="kycrecord")
router.register("screening-runs", ScreeningRunViewSet, basename="screeningrun")
router.register("screening-hits", ScreeningHitViewSet, basename="screeninghit")
router.register("connections", ConnectionApprovalViewSet, basename="connectionapproval")

urlpatterns = [
    path("clearance/<int:customer_id>/", ClearanceView.as_view(), name="clearance"),
    *router.urls,
]
