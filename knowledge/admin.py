"""Admin for the knowledge base. Articles are edited through the staff pages (review and history);
the admin offers the same fields for administrators and shows each article's history read-only."""

from __future__ import annotations

from django.contrib import admin

from knowledge.models import Article, ArticleEvent, SuggestionSession


class ArticleEventInline(admin.TabularInline):
    model = ArticleEvent
    extra = 0
    can_delete = False
    fields = ("created_at", "kind", "actor", "note", "changes")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ("question", "category", "region", "bureau", "state", "valid_until", "updated_at")
    list_filter = ("state", "category", "appeal_type")
    search_fields = ("question", "answer", "question_en")
    raw_id_fields = ("source_appeal", "author", "reviewed_by")
    readonly_fields = ("published_at", "expiry_warned_at", "created_at", "updated_at")
    inlines = [ArticleEventInline]


@admin.register(SuggestionSession)
class SuggestionSessionAdmin(admin.ModelAdmin):
    list_display = ("created_at", "category", "filed_at")
    readonly_fields = ("token", "category", "shown", "opened", "created_at", "filed_at")
    list_filter = ("category",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
