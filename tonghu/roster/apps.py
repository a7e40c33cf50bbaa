from django.apps import AppConfig


class RosterConfig(AppConfig):
    name = "tonghu.roster"
    verbose_name = "儿童主任与儿童督导员台账"
