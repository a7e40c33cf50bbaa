from django.apps import AppConfig


class DivisionsConfig(AppConfig):
    name = "tonghu.divisions"
    verbose_name = "行政区划"
