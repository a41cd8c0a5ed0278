from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        # Members join through an invitation; open sign-up is a deployment's choice.
        return settings.ACCOUNT_ALLOW_SIGNUPS
