"""The schedule for members and calendar apps: a member's pages under /programme/, the
cohort's public feed beside its public page, and each member's private feed.
"""

from django.urls import path

from cohorts import schedule_views as views

app_name = "schedule"

urlpatterns = [
    path("cohorts/<str:slug>/calendar.ics", views.CohortFeedView.as_view(), name="cohort-feed"),
    path("programme/schedule/<str:cohort>/", views.ScheduleView.as_view(), name="member-schedule"),
    path(
        "programme/schedule/<str:cohort>/calendar/reset/",
        views.FeedResetView.as_view(),
        name="feed-reset",
    ),
    path(
        "programme/reminders/<str:cohort>/",
        views.ReminderPreferencesView.as_view(),
        name="preferences",
    ),
    path("programme/calendar/<str:token>.ics", views.MemberFeedView.as_view(), name="member-feed"),
]
