"""A member's pages, under /programme/ (the topic workspaces are in topics.workspace_urls)."""

from django.urls import path

from cohorts import programme_views as views

app_name = "programme"

urlpatterns = [
    path("", views.DashboardView.as_view(), name="dashboard"),
    path("invitations/<str:token>/", views.InvitationView.as_view(), name="invitation"),
    path("profile/<str:cohort>/", views.ProfileView.as_view(), name="profile"),
    path("members/<int:pk>/photo/", views.MemberPhotoView.as_view(), name="member-photo"),
    path("my-data.json", views.DataExportView.as_view(), name="data-export"),
    path("delete-account/", views.DeleteAccountView.as_view(), name="delete-account"),
    path("notifications/", views.NotificationListView.as_view(), name="notifications"),
    path("notifications/read/", views.NotificationsReadView.as_view(), name="notifications-read"),
]
