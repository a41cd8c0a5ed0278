from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from forums.views import HomeView
from wecity.api import documentation_page
from wecity.views import healthz, switch_language

swagger_ui = SpectacularSwaggerSplitView.as_view(url_name="api-schema")
redoc = SpectacularRedocView.as_view(url_name="api-schema")

# No language prefix in URLs: the language is chosen with the switch in the header.
urlpatterns = [
    path("", HomeView.as_view(), name="home"),
    path("", include("forums.urls")),
    path("", include("forums.public_urls")),
    path("topics/", include("topics.urls")),
    path("", include("cohorts.schedule_urls")),
    path("cohorts/", include("cohorts.urls")),
    path("programme/", include("cohorts.programme_urls")),
    path("programme/", include("topics.workspace_urls")),
    path("organise/cohorts/", include("cohorts.organise_schedule_urls")),
    path("organise/cohorts/", include("cohorts.organise_urls")),
    path("organise/", include("forums.organise_urls")),
    path("curate/", include("forums.curation_urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("language/<str:code>/", switch_language, name="switch-language"),
    path("api/v1/", include("wecity.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", documentation_page(swagger_ui), name="api-docs"),
    path("api/redoc/", documentation_page(redoc), name="api-redoc"),
    path("accounts/", include("accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
]

# Errors outside a view answer in the API's error format under /api/, with pages elsewhere.
handler400 = "wecity.api_errors.bad_request"
handler403 = "wecity.api_errors.permission_denied"
handler404 = "wecity.api_errors.page_not_found"
handler500 = "wecity.api_errors.server_error"

# Uploaded photos during development; production serves MEDIA_URL from storage or the proxy.
urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
