from django.apps import AppConfig


class ReleasesConfig(AppConfig):
    name = "releases"
    verbose_name = "Data releases"

    def ready(self):
        # Releases ride along in the corpus backup (export_corpus / load_corpus). evidence must
        # not import this app (dependencies point one way), so the app registers itself there.
        from evidence.services import backup, corpus
        from releases import backup as release_backup

        if release_backup.export_files not in backup.EXTRA_EXPORTS:
            backup.EXTRA_EXPORTS.append(release_backup.export_files)
        if release_backup.load_files not in corpus.EXTRA_LOADERS:
            corpus.EXTRA_LOADERS.append(release_backup.load_files)
