from django.urls import path

from topics import views

app_name = "topics"

urlpatterns = [
    path("", views.TopicListView.as_view(), name="topic-list"),
    path("<slug:slug>/", views.TopicDetailView.as_view(), name="topic-detail"),
]
