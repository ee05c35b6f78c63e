from rest_framework.routers import SimpleRouter

from .views import BankAccountViewSet, ContactLogViewSet, CustomerViewSet, KeyPersonViewSet

router = SimpleRouter()
router.register("customers", CustomerViewSet, basename="customer")
router.register("key-persons", KeyPersonViewSet, basename="keyperson")
router.register("bank-accounts", BankAccountViewSet, basename="bankaccount")
router.register("contact-log", ContactLogViewSet, basename="contactlog")

urlpatterns = router.urls
