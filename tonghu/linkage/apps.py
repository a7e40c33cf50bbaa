from django.apps import AppConfig


class LinkageConfig(AppConfig):
    name = "tonghu.linkage"
    verbose_name = "跨部门比对与人工核实"
