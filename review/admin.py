from django.contrib import admin

from review.models import Queue, QueueItem


class QueueItemInline(admin.TabularInline):
    model = QueueItem
    extra = 0
    fields = ("position", "name", "trace_id", "run_id", "project", "done_at")
    readonly_fields = ("name", "trace_id", "run_id", "project")
    show_change_link = False
    max_num = 0  # items are added from the traces table, not typed in


@admin.register(Queue)
class QueueAdmin(admin.ModelAdmin):
    list_display = ("name", "created_by", "created_at")
    search_fields = ("name",)
    inlines = [QueueItemInline]
