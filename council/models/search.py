"""The search index: one row per public thing people can search (a proposal, a published
disclosure), holding its words as segmented tokens. ``council.search`` writes and reads it;
the apps above say what goes in (hook ``search_documents``)."""

from django.db import models

from .places import Community


class SearchEntry(models.Model):
    """The searchable words of one public object, named by ``kind`` and ``object_id`` (as the
    evidence log names objects, so council need not know the apps above it).

    ``title`` and ``body`` are space-joined tokens (words, their pinyin and initials), not
    text to show. On PostgreSQL a GIN index over their weighted ``tsvector`` serves the
    search; on SQLite an FTS5 table (``council_searchentry_fts``, rowid = ``id``) mirrors them.
    Both are created by the migration, not declared here.
    """

    kind = models.CharField(max_length=20)
    object_id = models.PositiveBigIntegerField()
    community = models.ForeignKey(Community, models.CASCADE, related_name="+")
    title = models.TextField()
    body = models.TextField()
    indexed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "object_id"], name="search_entry_once")
        ]
        indexes = [models.Index(fields=["community", "kind"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id}"
