"""The organisers' pages, under /organise/ (every view requires an organiser)."""

from django.urls import path

from forums import import_views
from forums import organise_views as views

app_name = "organise"

forum = "forums/<int:pk>/"
theme = forum + "themes/<int:theme_pk>/"
appearance = forum + "speakers/<int:appearance_pk>/"
turn = forum + "turns/<int:turn_pk>/"

urlpatterns = [
    path("", views.ForumListView.as_view(), name="forum-list"),
    path("import/", import_views.RecapImportView.as_view(), name="import"),
    path("forums/new/", views.ForumCreateView.as_view(), name="forum-create"),
    path(forum + "edit/", views.ForumEditView.as_view(), name="forum-edit"),
    path(forum + "preview/", views.ForumPreviewView.as_view(), name="forum-preview"),
    path(forum + "history/", views.ForumHistoryView.as_view(), name="forum-history"),
    path(
        forum + "history/<int:number>/restore/",
        views.RestoreRevisionView.as_view(),
        name="revision-restore",
    ),
    path("markdown-preview/", views.MarkdownPreviewView.as_view(), name="markdown-preview"),
    path("speaker-options/", views.SpeakerOptionsView.as_view(), name="speaker-options"),
    # Themes
    path(forum + "themes/add/", views.AddThemeView.as_view(), name="theme-add"),
    path(theme + "rename/", views.RenameThemeView.as_view(), name="theme-rename"),
    path(theme + "move/", views.MoveThemeView.as_view(), name="theme-move"),
    path(theme + "remove/", views.RemoveThemeView.as_view(), name="theme-remove"),
    # Speakers
    path(forum + "speakers/add/", views.AddAppearanceView.as_view(), name="appearance-add"),
    path(appearance + "edit/", views.UpdateAppearanceView.as_view(), name="appearance-update"),
    path(appearance + "move/", views.MoveAppearanceView.as_view(), name="appearance-move"),
    path(appearance + "remove/", views.RemoveAppearanceView.as_view(), name="appearance-remove"),
    # Transcript
    path(theme + "turns/add/", views.AddTurnView.as_view(), name="turn-add"),
    path(turn + "edit/", views.UpdateTurnView.as_view(), name="turn-update"),
    path(turn + "move/", views.MoveTurnView.as_view(), name="turn-move"),
    path(turn + "remove/", views.RemoveTurnView.as_view(), name="turn-remove"),
    # Highlights, publishing, sharing
    path(forum + "highlights/", views.HighlightsView.as_view(), name="highlights"),
    path(forum + "publish/", views.PublishView.as_view(), name="publish"),
    path(forum + "schedule/", views.ScheduleView.as_view(), name="schedule"),
    path(forum + "unpublish/", views.UnpublishView.as_view(), name="unpublish"),
    path(forum + "share-links/", views.ShareLinkView.as_view(), name="share-link-create"),
]
