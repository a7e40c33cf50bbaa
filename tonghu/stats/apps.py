from django.apps import AppConfig


class StatsConfig(AppConfig):
    name = "tonghu.stats"
    verbose_name = "统计分析"
