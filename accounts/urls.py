"""The user's own account pages, under /accounts/ beside allauth's."""

from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("api-tokens/", views.ApiTokenListView.as_view(), name="api-tokens"),
    path(
        "api-tokens/<int:pk>/revoke/", views.ApiTokenRevokeView.as_view(), name="api-token-revoke"
    ),
]
