"""The user's own account pages beside allauth's: personal API tokens."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views import View

from accounts import services
from accounts.forms import ApiTokenForm
from accounts.models import ApiToken


class ApiTokenListView(LoginRequiredMixin, View):
    """The user's tokens; a new one's secret is shown in the answer to its creation only."""

    template_name = "accounts/api_tokens.html"

    def render_page(self, request, *, form=None, new_token=None, secret=None, status=200):
        tokens = ApiToken.objects.filter(user=request.user).order_by("-created_at", "-id")
        response = render(
            request,
            self.template_name,
            {
                "form": form or ApiTokenForm(),
                "tokens": list(tokens),
                "new_token": new_token,
                "secret": secret,
            },
            status=status,
        )
        add_never_cache_headers(response)
        return response

    def get(self, request):
        return self.render_page(request)

    def post(self, request):
        form = ApiTokenForm(request.POST)
        if not form.is_valid():
            return self.render_page(request, form=form, status=400)
        token, secret = services.create_api_token(request.user, name=form.cleaned_data["name"])
        return self.render_page(request, new_token=token, secret=secret)


class ApiTokenRevokeView(LoginRequiredMixin, View):
    http_method_names = ["post"]

    def post(self, request, pk):
        token = get_object_or_404(ApiToken.objects.filter(user=request.user), pk=pk)
        services.revoke_api_token(token)
        messages.success(
            request,
            _("The token “%(name)s” is revoked; it no longer works.") % {"name": token.name},
        )
        return redirect("accounts:api-tokens")
