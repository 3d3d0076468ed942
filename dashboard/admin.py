"""Users in the admin, with the viewer role (``runs.viewers``) one action away.

Viewers read the dashboard and the API but no admin page; the inline limits
one to a project, as a project-scoped API key is limited.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from dashboard.models import SavedView
from runs.models import ViewerScope
from runs.viewers import make_viewer

User = get_user_model()


class ViewerScopeInline(admin.StackedInline):
    model = ViewerScope
    can_delete = True
    extra = 0
    max_num = 1
    verbose_name = "project limit (viewers only)"
    verbose_name_plural = "project limit (viewers only)"


@admin.action(description="Make the selected users viewers (read-only dashboard)")
def make_viewers(modeladmin: admin.ModelAdmin, request: HttpRequest, users: QuerySet):
    for user in users:
        scope = ViewerScope.objects.filter(user=user).first()
        make_viewer(user, project=scope.project if scope else None)
    count = users.count()
    modeladmin.message_user(
        request,
        f"{count} user{'s' if count != 1 else ''} can now read the dashboard.",
        messages.SUCCESS,
    )


class AgentSpyUserAdmin(UserAdmin):
    inlines = [*UserAdmin.inlines, ViewerScopeInline]
    actions = [*UserAdmin.actions, make_viewers]


admin.site.unregister(User)
admin.site.register(User, AgentSpyUserAdmin)


@admin.register(SavedView)
class SavedViewAdmin(admin.ModelAdmin):
    list_display = ("name", "author", "created_at")
    search_fields = ("name",)
    list_select_related = ("author",)
    raw_id_fields = ("author",)
