"""The organisers' cohort pages, under /organise/cohorts/ (every view requires an organiser)."""

from django.urls import path

from cohorts import organise_views as views

app_name = "organise-cohorts"

cohort = "<str:slug>/"

urlpatterns = [
    path("", views.CohortListView.as_view(), name="cohort-list"),
    path("new/", views.CohortCreateView.as_view(), name="cohort-create"),
    path("deletion-requests/", views.DeletionRequestListView.as_view(), name="deletion-requests"),
    path(
        "deletion-requests/<int:pk>/confirm/",
        views.ConfirmDeletionView.as_view(),
        name="deletion-confirm",
    ),
    path(
        "deletion-requests/<int:pk>/decline/",
        views.DeclineDeletionView.as_view(),
        name="deletion-decline",
    ),
    path(cohort, views.CohortManageView.as_view(), name="cohort"),
    path(cohort + "invite/", views.InviteView.as_view(), name="invite"),
    path(cohort + "import/", views.ImportView.as_view(), name="import"),
    path(
        cohort + "invitations/<int:pk>/resend/",
        views.ResendInvitationView.as_view(),
        name="invitation-resend",
    ),
    path(
        cohort + "invitations/<int:pk>/revoke/",
        views.RevokeInvitationView.as_view(),
        name="invitation-revoke",
    ),
    path(cohort + "members/<int:pk>/move/", views.MoveMemberView.as_view(), name="member-move"),
    path(cohort + "reviewers/", views.AddReviewerView.as_view(), name="reviewer-add"),
    path(
        cohort + "reviewers/<int:pk>/remove/",
        views.RemoveReviewerView.as_view(),
        name="reviewer-remove",
    ),
    path(cohort + "board/", views.BoardView.as_view(), name="board"),
    path(cohort + "board.csv", views.BoardCSVView.as_view(), name="board-csv"),
]
