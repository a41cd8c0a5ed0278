from django.urls import path

from cohorts import views

app_name = "cohorts"

urlpatterns = [
    path("", views.CohortListView.as_view(), name="cohort-list"),
    path("<str:slug>/", views.CohortDetailView.as_view(), name="cohort-detail"),
]
