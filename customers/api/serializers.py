from rest_framework import serializers

from customers.models import BankAccount, ChangeRequest, ContactLog, Customer, KeyPerson


class CustomerSerializer(serializers.ModelSerializer):
    """One serializer for read and write; keys and audit fields are read-only."""

    transfer_names = serializers.SlugRelatedField(many=True, read_only=True, slug_field="name")
    status_display = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = Customer
        fields = [
            "id", "kind", "name", "name_kana", "name_en", "corporate_number", "invoice_number",
            "industry", "established", "capital", "employees", "annual_sales", "net_assets",
            "fiscal_year_end_month", "postal_code", "prefecture", "city", "street", "building",
            "phone", "parent", "is_client", "is_debtor", "status", "status_display", "merged_into",
            "name_key", "kana_key", "transfer_names", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["merged_into", "name_key", "kana_key", "created_at", "updated_at"]
        # Uniqueness is checked by the service, which answers 409 with the existing record.
        extra_kwargs = {
            "corporate_number": {"validators": []},
            "invoice_number": {"validators": []},
        }


class KeyPersonSerializer(serializers.ModelSerializer):
    """Dates of birth and personal contact data are masked unless the caller may see them."""

    class Meta:
        model = KeyPerson
        fields = [
            "id", "customer", "role", "name", "name_kana", "title", "date_of_birth", "ownership_pct",
            "department", "phone", "email", "is_active",
        ]  # fmt: skip
        read_only_fields = ["customer", "is_active"]

    PERSONAL = ("date_of_birth", "phone", "email")

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is None or not request.user.has_perm("customers.view_personal_data"):
            for field in self.PERSONAL:
                if data.get(field):
                    data[field] = "***"
        return data


class BankAccountSerializer(serializers.ModelSerializer):
    class Meta:
        model = BankAccount
        fields = [
            "id", "customer", "bank_code", "bank_name", "branch_code", "branch_name", "account_type",
            "number", "holder_kana", "verification", "is_active",
        ]  # fmt: skip
        read_only_fields = fields


class BankAccountRequestSerializer(serializers.Serializer):
    bank_code = serializers.RegexField(r"^\d{4}$")
    branch_code = serializers.RegexField(r"^\d{3}$")
    account_type = serializers.ChoiceField(
        choices=BankAccount._meta.get_field("account_type").choices
    )
    number = serializers.RegexField(r"^\d{7}$")
    holder_kana = serializers.CharField(max_length=100)
    verification = serializers.ChoiceField(
        choices=BankAccount._meta.get_field("verification").choices, default="unverified"
    )


class ChangeRequestSerializer(serializers.ModelSerializer):
    class Meta:
        model = ChangeRequest
        fields = [
            "id",
            "customer",
            "kind",
            "target_id",
            "payload",
            "status",
            "maker",
            "made_at",
            "checker",
            "decided_at",
            "reason",
        ]
        read_only_fields = fields


class ContactLogSerializer(serializers.ModelSerializer):
    class Meta:
        model = ContactLog
        fields = [
            "id",
            "customer",
            "occurred_at",
            "channel",
            "counterpart",
            "summary",
            "agreements",
            "recorded_by",
        ]
        read_only_fields = ["customer", "recorded_by"]
