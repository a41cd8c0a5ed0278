"""Emails of the programme: plain text and HTML, in the recipient's language."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation


def absolute_url(path):
    return settings.SITE_URL.rstrip("/") + path


def send_email(*, to, template, context, language, connection=None):
    """Render `<template>_subject.txt`, `.txt` and `.html` in `language` and send them.

    `connection`, an open mail backend, lets a task send many messages over one connection.
    """
    context = {**context, "site_url": settings.SITE_URL.rstrip("/")}
    with translation.override(language):
        subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
        text = render_to_string(f"{template}.txt", context)
        html = render_to_string(f"{template}.html", context)
    message = EmailMultiAlternatives(subject, text, to=[to], connection=connection)
    message.attach_alternative(html, "text/html")
    message.send()
