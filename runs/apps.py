from django.apps import AppConfig


class RunsConfig(AppConfig):
    name = "runs"
    verbose_name = "Traces"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from runs.query.search import register_sqlite_functions

        connection_created.connect(
            register_sqlite_functions, dispatch_uid="agentspy-sqlite-functions"
        )
