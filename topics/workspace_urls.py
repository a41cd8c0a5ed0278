"""The topic groups' workspaces, under /programme/ beside the member's own pages."""

from django.urls import path

from topics import workspace_views as views

app_name = "workspace"

group = "groups/<str:cohort>/<slug:topic>/"

urlpatterns = [
    path(group, views.WorkspaceView.as_view(), name="workspace"),
    path(group + "deliverables/<int:pk>/", views.DeliverableView.as_view(), name="deliverable"),
    path("submissions/<int:pk>/file/", views.SubmissionFileView.as_view(), name="file"),
    path("submissions/<int:pk>/review/", views.ReviewView.as_view(), name="review"),
]
