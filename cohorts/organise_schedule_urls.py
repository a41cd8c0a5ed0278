"""The organisers' schedule pages, under /organise/cohorts/<slug>/ (organisers only)."""

from django.urls import path

from cohorts import organise_schedule_views as views

app_name = "organise-schedule"

cohort = "<str:slug>/"
milestone = cohort + "milestones/<int:pk>/"

urlpatterns = [
    path(cohort + "schedule/", views.MilestoneListView.as_view(), name="milestones"),
    path(cohort + "schedule/generate/", views.GenerateScheduleView.as_view(), name="generate"),
    path(cohort + "milestones/new/", views.MilestoneCreateView.as_view(), name="milestone-add"),
    path(milestone, views.MilestoneEditView.as_view(), name="milestone-edit"),
    path(milestone + "remove/", views.MilestoneRemoveView.as_view(), name="milestone-remove"),
    path(
        milestone + "send-reminders/",
        views.SendRemindersNowView.as_view(),
        name="send-reminders",
    ),
    path(cohort + "reminders/", views.ReminderLogView.as_view(), name="reminders"),
]
