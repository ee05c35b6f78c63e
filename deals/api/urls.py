from rest_framework.routers import SimpleRouter

from .views import ApprovalViewSet, DealViewSet, ReceivableViewSet

router = SimpleRouter()
router.register("deals", DealViewSet, basename="deal")
router.register("receivables", ReceivableViewSet, basename="receivable")
router.register("approvals", ApprovalViewSet, basename="approvalrequest")

urlpatterns = router.urls
