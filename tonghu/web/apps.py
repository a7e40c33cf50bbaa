from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "tonghu.web"
    verbose_name = "网页外壳"
