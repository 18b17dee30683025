"""Base class for the API's write serializers."""

from rest_framework import serializers


class WriteSerializer(serializers.ModelSerializer):
    """Validates what a client sends; it never saves. The write viewsets pass
    ``validated_data`` to the app's services (``perform_create``/``perform_update``), so that
    a write through the API keeps the same rules as one through the admin or the loader
    (docs/architecture.md, "Writes"). ``save()`` would bypass them, hence the refusal."""

    def create(self, validated_data):
        raise NotImplementedError("Save through the app's service (the viewset's perform_create).")

    def update(self, instance, validated_data):
        raise NotImplementedError("Save through the app's service (the viewset's perform_update).")
