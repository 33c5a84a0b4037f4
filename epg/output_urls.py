from django.urls import path

from .output import epg_xml

urlpatterns = [
    path("epg.xml", epg_xml, name="epg-output"),
]
