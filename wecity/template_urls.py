"""{% url %} remembered: a built-in tag library of the templates (settings.TEMPLATES).

Django's {% url %} calls reverse() at every use, and every page writes a dozen in its header
and footer alone, more in its lists. This `url` parses and renders as Django's does (it is
Django's node), and where the view name and every argument are plain strings or integers,
as they are in the portal's templates, the URL comes from `wecity.urls_cache`: reversed
once per URLconf, script prefix and current app. Anything else (a model instance, a lazy
string) is reversed as Django would.
"""

from django import template
from django.template.defaulttags import URLNode
from django.template.defaulttags import url as django_url
from django.urls import NoReverseMatch, reverse
from django.utils.html import conditional_escape

from wecity.urls_cache import remembered_reverse

register = template.Library()


def plain(value):
    """Whether `value` stands for itself in a URL: the same value, the same URL. Strings
    (the template's literals are SafeStrings) and integers; not True, equal to 1 as a key.
    """
    return isinstance(value, (str, int)) and not isinstance(value, bool)


class RememberedURLNode(URLNode):
    def render(self, context):
        args = tuple(arg.resolve(context) for arg in self.args)
        kwargs = tuple((name, value.resolve(context)) for name, value in self.kwargs.items())
        view_name = self.view_name.resolve(context)
        current_app = current_app_of(context)
        url = ""
        try:
            if all(plain(value) for value in (view_name, *args, *(v for _, v in kwargs))):
                url = remembered_reverse(
                    view_name, args=args, kwargs=kwargs, current_app=current_app
                )
            else:
                url = reverse(view_name, args=args, kwargs=dict(kwargs), current_app=current_app)
        except NoReverseMatch:
            if self.asvar is None:
                raise
        if self.asvar:
            context[self.asvar] = url
            return ""
        return conditional_escape(url) if context.autoescape else url


def current_app_of(context):
    # As Django's URLNode: the request's current_app, else its resolver match's namespace.
    try:
        return context.request.current_app
    except AttributeError:
        try:
            return context.request.resolver_match.namespace
        except AttributeError:
            return None


@register.tag
def url(parser, token):
    """Django's {% url %} (same syntax, same output), reversed once per URL."""
    node = django_url(parser, token)
    return RememberedURLNode(node.view_name, node.args, node.kwargs, node.asvar)
