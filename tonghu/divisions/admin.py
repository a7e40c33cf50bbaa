from django.contrib import admin

from tonghu.divisions.models import Division


@admin.register(Division)
class DivisionAdmin(admin.ModelAdmin[Division]):
    list_display = ("code", "name", "level", "parent", "central_urban")
    list_filter = ("level", "central_urban")
    search_fields = ("code", "name")
    raw_id_fields = ("parent",)
