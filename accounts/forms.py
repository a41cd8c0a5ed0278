"""Forms of the accounts app: they validate and normalise input and save nothing."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import ApiToken


class ApiTokenForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ["name"]
        labels = {"name": _("Token name")}
