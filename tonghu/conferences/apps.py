from django.apps import AppConfig


class ConferencesConfig(AppConfig):
    name = "tonghu.conferences"
    verbose_name = "案件会商"
