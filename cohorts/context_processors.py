from accounts.models import Role
from cohorts.models import Notification


def programme(request):
    """The header's notification count and "My programme" link, for a signed-in user.

    Counted here rather than lazily in the template: templates run no queries.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "unread_notifications": Notification.objects.visible_to(user).unread().count(),
        # Members, and named reviewers (plain accounts): everyone but organisers-only.
        "has_programme": user.has_role(Role.MEMBER) or not user.is_organiser,
    }
