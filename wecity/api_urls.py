"""The REST API, version 1: every resource under /api/v1/.

The schema and its documentation pages (/api/schema/, /api/docs/, /api/redoc/) are in
wecity/urls.py, beside this version's prefix.
"""

from django.urls import path
from rest_framework.routers import SimpleRouter

from accounts.api import MeView
from cohorts.api import (
    CohortViewSet,
    MemberViewSet,
    MilestoneViewSet,
    NotificationViewSet,
    ReminderOptOutViewSet,
)
from forums.api import (
    ForumViewSet,
    QuoteViewSet,
    RecapViewSet,
    SearchView,
    SpeakerViewSet,
    TurnViewSet,
)
from topics.api import DeliverableViewSet, ReviewViewSet, SubmissionViewSet, TopicViewSet

app_name = "api-v1"

router = SimpleRouter()
router.register("forums", ForumViewSet, basename="forum")
router.register(r"forums/(?P<forum_slug>[-\w]+)/turns", TurnViewSet, basename="forum-turn")
router.register("recaps", RecapViewSet, basename="recap")
router.register("speakers", SpeakerViewSet, basename="speaker")
router.register("quotes", QuoteViewSet, basename="quote")
router.register("topics", TopicViewSet, basename="topic")
router.register("deliverables", DeliverableViewSet, basename="deliverable")
router.register("submissions", SubmissionViewSet, basename="submission")
router.register("reviews", ReviewViewSet, basename="review")
router.register("cohorts", CohortViewSet, basename="cohort")
router.register("members", MemberViewSet, basename="member")
router.register("milestones", MilestoneViewSet, basename="milestone")
router.register("notifications", NotificationViewSet, basename="notification")
router.register("reminder-opt-outs", ReminderOptOutViewSet, basename="reminder-opt-out")

urlpatterns = [
    path("search/", SearchView.as_view(), name="search"),
    path("me/", MeView.as_view(), name="me"),
    *router.urls,
]
