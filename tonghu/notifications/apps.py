from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "tonghu.notifications"
    verbose_name = "站内提醒"
