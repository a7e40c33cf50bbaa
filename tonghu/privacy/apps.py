from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "tonghu.privacy"
    verbose_name = "个人信息保护"
