from rest_framework.routers import SimpleRouter

from .views import (
    AllocationViewSet,
    BankEntryViewSet,
    DunningViewSet,
    ExpectedCollectionViewSet,
    RepurchaseViewSet,
    StatementViewSet,
)

router = SimpleRouter()
router.register("statements", StatementViewSet, basename="statementimport")
router.register("bank-entries", BankEntryViewSet, basename="bankentry")
router.register("collections", ExpectedCollectionViewSet, basename="expectedcollection")
router.register("allocations", AllocationViewSet, basename="allocation")
router.register("dunning", DunningViewSet, basename="dunninglog")
router.register("repurchases", RepurchaseViewSet, basename="repurchaserequest")

urlpatterns = router.urls
