from rest_framework import serializers

from releases.models import Release, ReleaseArtefact


class ArtefactSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = ReleaseArtefact
        fields = ["name", "media_type", "size", "sha256", "url"]

    def get_url(self, artefact) -> str:
        request = self.context.get("request")
        url = artefact.get_absolute_url()
        return request.build_absolute_uri(url) if request else url


class ReleaseSerializer(serializers.ModelSerializer):
    artefacts = ArtefactSerializer(many=True, read_only=True)
    citation = serializers.CharField(read_only=True)

    class Meta:
        model = Release
        fields = [
            "version",
            "created_at",
            "evidence_cutoff",
            "counts",
            "notes",
            "citation",
            "artefacts",
        ]


class ChangeSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["added", "changed", "withdrawn"])
    what = serializers.CharField()
    text = serializers.CharField()


class ChangeGroupSerializer(serializers.Serializer):
    therapy = serializers.CharField()
    changes = ChangeSerializer(many=True)


class ChangelogSerializer(serializers.Serializer):
    since = serializers.CharField(allow_null=True)
    groups = ChangeGroupSerializer(many=True)


class ReleaseDetailSerializer(ReleaseSerializer):
    changelog = serializers.SerializerMethodField()

    class Meta(ReleaseSerializer.Meta):
        fields = [*ReleaseSerializer.Meta.fields, "changelog"]

    def get_changelog(self, release) -> ChangelogSerializer:
        from releases.changelog import changelog

        return changelog(release).as_dict()
