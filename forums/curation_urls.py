"""Quote curation and speaker merges, under /curate/: admins, and organisers' proposals."""

from django.urls import path

from forums import curation_views as views

app_name = "curate"

quote = "quotes/<int:pk>/"

urlpatterns = [
    path("", views.QueueView.as_view(), name="queue"),
    path(quote, views.QuoteView.as_view(), name="quote"),
    path(quote + "approve/", views.ApproveView.as_view(), name="approve"),
    path(quote + "reject/", views.RejectView.as_view(), name="reject"),
    path(quote + "feature/", views.FeatureView.as_view(), name="feature"),
    path(quote + "unfeature/", views.UnfeatureView.as_view(), name="unfeature"),
    path(quote + "move/", views.MoveHighlightView.as_view(), name="highlight-move"),
    # Organisers too
    path("quotes/new/", views.ProposeQuoteView.as_view(), name="propose"),
    path(quote + "edit/", views.EditQuoteView.as_view(), name="edit"),
    path(quote + "propose-again/", views.ReproposeView.as_view(), name="repropose"),
    # Highlights, the audit log, speakers
    path("highlights/", views.HighlightsView.as_view(), name="highlights"),
    path(
        "forums/<int:pk>/highlights/reorder/",
        views.ReorderHighlightsView.as_view(),
        name="highlights-reorder",
    ),
    path("log/", views.LogView.as_view(), name="log"),
    path("speakers/merge/", views.SpeakerMergeView.as_view(), name="speaker-merge"),
]
