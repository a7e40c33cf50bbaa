from django.apps import AppConfig


class GuardianshipConfig(AppConfig):
    name = "tonghu.guardianship"
    verbose_name = "家庭监护能力评估与委托照护"
