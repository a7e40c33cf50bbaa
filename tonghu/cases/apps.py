from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "tonghu.cases"
    verbose_name = "强制报告与个案处置"
