from django.apps import AppConfig


class AlertsConfig(AppConfig):
    name = "tonghu.alerts"
    verbose_name = "预警"
