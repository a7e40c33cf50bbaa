from django.apps import AppConfig


class FeedsConfig(AppConfig):
    name = "tonghu.feeds"
    verbose_name = "数据导入"
