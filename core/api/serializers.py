from rest_framework import serializers

from core.models import Alert


class AlertSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    severity_display = serializers.CharField(source="get_severity_display", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    assignee = serializers.StringRelatedField()
    assigned_role = serializers.StringRelatedField()
    subject_type = serializers.SerializerMethodField()

    class Meta:
        model = Alert
        fields = [
            "id", "kind", "kind_display", "severity", "severity_display", "title", "message",
            "subject_type", "subject_id", "due_date", "assignee", "assigned_role",
            "status", "status_display", "dedup_key", "created_at", "acknowledged_at",
            "resolved_at", "resolution_note",
        ]  # fmt: skip
        read_only_fields = fields

    def get_subject_type(self, alert: Alert) -> str | None:
        ct = alert.subject_type
        return f"{ct.app_label}.{ct.model}" if ct else None


class ResolveSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="")
