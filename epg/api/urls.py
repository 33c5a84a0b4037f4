from django.urls import path, re_path

from homelab.api.views import not_found_view

from . import views
from .views import EPGAPIView

urlpatterns = [
    path("sources/", views.SourceListView.as_view(), name="epg-sources"),
    path("sources/<int:pk>/", views.SourceDetailView.as_view(), name="epg-source"),
    path("import/", views.ImportView.as_view(), name="epg-import"),
    path("epgdata/", views.EPGDataView.as_view(), name="epg-epgdata"),
    path("grid/", views.GridView.as_view(), name="epg-grid"),
    re_path(r"^.*$", not_found_view(EPGAPIView)),
]
