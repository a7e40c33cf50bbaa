from django.apps import AppConfig


class RoundsConfig(AppConfig):
    name = "tonghu.rounds"
    verbose_name = "监测摸排轮次"
