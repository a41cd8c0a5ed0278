from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from forums.views import HomeView
from wecity.views import healthz

# No language prefix in URLs: the language is chosen with the switch in the header.
urlpatterns = [
    path("", HomeView.as_view(), name="home"),
    path("", include("forums.urls")),
    path("", include("forums.public_urls")),
    path("topics/", include("topics.urls")),
    path("cohorts/", include("cohorts.urls")),
    path("programme/", include("cohorts.programme_urls")),
    path("programme/", include("topics.workspace_urls")),
    path("organise/cohorts/", include("cohorts.organise_urls")),
    path("organise/", include("forums.organise_urls")),
    path("curate/", include("forums.curation_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
]

# Uploaded photos during development; production serves MEDIA_URL from storage or the proxy.
urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
