from django.urls import path

from forums import views
from forums.organise_views import RecapShareView

app_name = "forums"

# Slugs may be Unicode (Chinese names), so they match as `str`, not as `slug`.
urlpatterns = [
    path("forums/", views.ForumListView.as_view(), name="forum-list"),
    path("forums/<str:slug>/", views.ForumDetailView.as_view(), name="forum-detail"),
    path("speakers/", views.SpeakerListView.as_view(), name="speaker-list"),
    path("speakers/<str:slug>/", views.SpeakerDetailView.as_view(), name="speaker-detail"),
    path("quotes/<int:pk>/", views.QuoteDetailView.as_view(), name="quote-detail"),
    path("share/<str:token>/", RecapShareView.as_view(), name="recap-share"),
    path("search/", views.SearchView.as_view(), name="search"),
]
