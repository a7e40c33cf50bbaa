from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "tonghu.audit"
    verbose_name = "审计日志"
