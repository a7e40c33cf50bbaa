from django.apps import AppConfig


class VisitsConfig(AppConfig):
    name = "tonghu.visits"
    verbose_name = "走访探视"
