"""Organisers import a recap from an article's text: check what was recognised, then save."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.utils.translation import gettext
from django.views.generic import FormView

from forums.forms import ArticleImportForm
from forums.importers import parse_article, save_import
from forums.models import Appearance, Speaker
from forums.organise_views import OrganiserRequiredMixin


class RecapImportView(OrganiserRequiredMixin, FormView):
    """Check shows what the importer recognised and its warnings; save creates a draft."""

    template_name = "forums/organise/import.html"
    form_class = ArticleImportForm

    def form_valid(self, form):
        text = form.cleaned_data["text"]
        known = Speaker.objects.order_by("id").values_list("name", "organisation", "title")
        imported = parse_article(text, known_speakers=list(known))
        if "save" in self.request.POST:
            try:
                forum = save_import(imported, user=self.request.user)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(
                    self.request,
                    gettext("The draft “%(headline)s” was created; check it, then publish it.")
                    % {"headline": imported.headline},
                )
                return redirect("organise:forum-edit", pk=forum.pk)
        # The review shows the decoded text, so that the organiser fixes it in place.
        form = self.form_class(initial={"article": text})
        return self.render_to_response(
            self.get_context_data(form=form, imported=imported, review=review_of(imported))
        )


def review_of(imported):
    """What the review screen lists: speakers by role, and which names are already known."""
    known = set(
        Speaker.objects.filter(name__in=imported.speaker_names).values_list("name", flat=True)
    )
    roles = []
    for role in Appearance.Role:
        rows = [a for a in imported.appearances if a.role == role]
        if rows:
            roles.append({"label": role.label, "appearances": rows})
    return {
        "roles": roles,
        "known": known,
        "turns": sum(len(theme.turns) for theme in imported.themes),
        # A highlight whose speaker is unknown is left out on save (it has its warning).
        "quotes": [quote for quote in imported.highlights if quote.speaker_name],
    }
