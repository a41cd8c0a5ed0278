"""Writes of the cohorts app: cohorts, invitations, members, reviewers, notifications, deletion.

Each function owns its transaction, returns what it changed and raises ValidationError or
PermissionDenied. Emails are queued after commit (`transaction.on_commit`), never sent from
inside a transaction that could still roll back.
"""

import datetime
import secrets
from functools import partial

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext as _

from accounts.models import Role, User, role_group
from cohorts import tasks
from cohorts.models import (
    Cohort,
    DeletionRequest,
    Invitation,
    Member,
    Milestone,
    Notification,
    Reminder,
    ReminderOptOut,
    Reviewer,
    TopicMove,
)
from cohorts.storage import storage_errors_as
from wecity.celery import queue_after_commit


def require_organiser(user):
    if not (user.is_authenticated and user.is_organiser):
        raise PermissionDenied(_("Only the programme's organisers can do this."))


def normalise_email(email):
    return User.objects.normalize_email(email.strip()).lower()


# --- Cohorts ------------------------------------------------------------------------------


# First path segments of the organisers' cohort pages that a cohort's slug must not take.
RESERVED_SLUGS = {"new", "deletion-requests"}


def unique_cohort_slug(name):
    base = slugify(name, allow_unicode=True)[:100] or "cohort"
    slug, number = base, 2
    while slug in RESERVED_SLUGS or Cohort.objects.filter(slug=slug).exists():
        slug, number = f"{base}-{number}", number + 1
    return slug


def create_cohort(*, user, name, starts_on, length_months, capacity, time_zone, description=""):
    """A new cohort with a slug made from its name. Raises ValidationError, PermissionDenied."""
    require_organiser(user)
    with transaction.atomic():
        cohort = Cohort(
            name=name,
            slug=unique_cohort_slug(name),
            starts_on=starts_on,
            length_months=length_months,
            capacity=capacity,
            time_zone=time_zone,
            description=description,
        )
        cohort.full_clean()
        cohort.save()
    return cohort


# --- Invitations --------------------------------------------------------------------------


def invitation_refusals(cohort, emails):
    """Why each of `emails` (normalised) cannot be invited to `cohort` now: {email: reason}."""
    emails = set(emails)
    members = set(
        Member.objects.filter(cohort=cohort, user__email__in=emails).values_list(
            "user__email", flat=True
        )
    )
    invited = set(
        Invitation.objects.pending()
        .filter(cohort=cohort, email__in=emails)
        .values_list("email", flat=True)
    )
    refusals = {}
    for email in emails:
        if email in members:
            refusals[email] = _("%(email)s is already a member of this cohort.") % {"email": email}
        elif email in invited:
            refusals[email] = _(
                "%(email)s has an invitation to this cohort already; resend it instead."
            ) % {"email": email}
    return refusals


def invitation_refusal(cohort, email):
    """Why `email` (normalised) cannot be invited to `cohort` now, or None."""
    return invitation_refusals(cohort, [email]).get(email)


def new_token():
    return secrets.token_urlsafe(32)


def invitation_expiry():
    return timezone.now() + datetime.timedelta(days=settings.INVITATION_VALID_DAYS)


def queue_invitation_email(invitation):
    queue_after_commit(tasks.send_invitation, invitation_id=invitation.pk)


def invite_member(cohort, *, invited_by, email, name, topic, organisation="", language=None):
    """Invite one person to the cohort in a topic and email them the link.

    Raises ValidationError when they are a member already or have a pending invitation.
    """
    require_organiser(invited_by)
    email = normalise_email(email)
    with transaction.atomic():
        refusal = invitation_refusal(cohort, email)
        if refusal:
            raise ValidationError({"email": refusal})
        invitation = Invitation.objects.create(
            cohort=cohort,
            topic=topic,
            email=email,
            name=name,
            organisation=organisation,
            language=language or settings.LANGUAGE_CODE,
            token=new_token(),
            invited_by=invited_by,
            last_sent_at=timezone.now(),
            expires_at=invitation_expiry(),
        )
        queue_invitation_email(invitation)
    return invitation


def import_invitations(cohort, *, invited_by, rows, language=None):
    """Invite every row of a checked CSV import (`importers.read_invitations`), or none.

    Raises ValidationError if a row is refused by the time it is saved: nothing is kept.
    """
    require_organiser(invited_by)
    with transaction.atomic():
        return [
            invite_member(
                cohort,
                invited_by=invited_by,
                email=row.email,
                name=row.name,
                organisation=row.organisation,
                topic=row.topic,
                language=language,
            )
            for row in rows
        ]


def resend_invitation(invitation, *, user):
    """A fresh link and expiry (the old link stops working), emailed again."""
    require_organiser(user)
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.status in (Invitation.Status.ACCEPTED, Invitation.Status.REVOKED):
            raise ValidationError(
                _("This invitation is %(status)s; it cannot be sent again.")
                % {"status": invitation.get_status_display().lower()}
            )
        invitation.token = new_token()
        invitation.expires_at = invitation_expiry()
        invitation.last_sent_at = timezone.now()
        invitation.save(update_fields=["token", "expires_at", "last_sent_at"])
        queue_invitation_email(invitation)
    return invitation


def revoke_invitation(invitation, *, user):
    """The link stops working and says the invitation was withdrawn."""
    require_organiser(user)
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.accepted_at:
            raise ValidationError(_("This invitation is accepted already; it cannot be revoked."))
        if not invitation.revoked_at:
            invitation.revoked_at = timezone.now()
            invitation.save(update_fields=["revoked_at"])
    return invitation


def invitation_problem(invitation):
    """Why an invitation cannot be accepted now, or None."""
    status = invitation.status
    if status == Invitation.Status.REVOKED:
        return _("This invitation was withdrawn by the organisers.")
    if status == Invitation.Status.ACCEPTED:
        return _("This invitation has been accepted already. Sign in to continue.")
    if status == Invitation.Status.EXPIRED:
        return _("This invitation has expired. Ask the organisers to send it again.")
    return None


def accept_invitation(invitation, *, user=None, name="", password=""):
    """Join the cohort: the membership, and the account when `user` is None.

    The new account's email address counts as verified (the link came to it). The cohort row
    is locked while places are counted, so two accepts racing for the last place cannot
    both win. Raises ValidationError: expired, revoked or used invitation, a full cohort, a
    weak password, an account that is not the invited address.
    """
    with transaction.atomic():
        Cohort.objects.select_for_update().get(pk=invitation.cohort_id)
        invitation = (
            Invitation.objects.select_for_update().select_related("cohort").get(pk=invitation.pk)
        )
        problem = invitation_problem(invitation)
        if problem:
            raise ValidationError(problem, code="unusable")
        if user is not None and user.email.lower() != invitation.email.lower():
            raise ValidationError(
                _("This invitation is for %(email)s; sign out and open the link again.")
                % {"email": invitation.email},
                code="wrong_account",
            )
        member = Member(
            cohort=invitation.cohort,
            topic_id=invitation.topic_id,
            name=name or (user.name if user else "") or invitation.name,
            organisation=invitation.organisation,
        )
        # Member.clean holds the capacity rule; the lock above makes its count exact.
        member.full_clean(exclude=["user"], validate_unique=False, validate_constraints=False)
        if user is None:
            if User.objects.filter(email__iexact=invitation.email).exists():
                raise ValidationError(
                    _("An account with this address exists: sign in, then open the link again."),
                    code="account_exists",
                )
            user = User(email=invitation.email, name=member.name, language=invitation.language)
            try:
                validate_password(password, user)
            except ValidationError as error:
                raise ValidationError({"password1": error.messages}) from error
            user.set_password(password)
            user.save()
            EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
        elif Member.objects.filter(cohort=invitation.cohort, user=user).exists():
            raise ValidationError(
                _("You are a member of this cohort already."), code="already_member"
            )
        user.groups.add(role_group(Role.MEMBER))
        member.user = user
        member.save()
        invitation.accepted_at = timezone.now()
        invitation.save(update_fields=["accepted_at"])
    return member


# --- Members ------------------------------------------------------------------------------


def move_member(member, *, topic, user):
    """Move a member to another topic's group, keeping the move in their history."""
    require_organiser(user)
    with transaction.atomic():
        member = Member.objects.select_for_update().get(pk=member.pk)
        if member.topic_id == topic.pk:
            raise ValidationError(
                {"topic": _("%(name)s is in this topic already.") % {"name": member.name}}
            )
        move = TopicMove.objects.create(
            member=member, from_topic_id=member.topic_id, to_topic=topic, moved_by=user
        )
        member.topic = topic
        member.save(update_fields=["topic"])
    return move


def update_profile(member, *, user, **fields):
    """Save a member's own profile and their choices of what is public.

    `photo` may be a new upload, False to remove it, or None to keep it. A replaced photo
    is deleted from storage after commit.
    """
    if member.user_id != user.pk or member.removed_at:
        raise PermissionDenied
    with transaction.atomic():
        member = Member.objects.select_for_update().get(pk=member.pk)
        old_photo = member.photo.name
        for name, value in fields.items():
            if value is not None or name != "photo":
                Member._meta.get_field(name).save_form_data(member, value)
        photo = fields.get("photo")
        with storage_errors_as("photo", getattr(photo, "name", "")):
            member.save()
        if old_photo and old_photo != member.photo.name:
            storage = Member._meta.get_field("photo").storage
            transaction.on_commit(partial(storage.delete, old_photo))
    return member


def update_reminder_preferences(member, *, user, kinds, time_zone=""):
    """Save which kinds of milestone the member is reminded of, and their time zone.

    Kinds left out become opt-outs; reminders already sent stay in the log.
    """
    if member.user_id != user.pk or member.removed_at:
        raise PermissionDenied
    kinds = set(kinds)
    with transaction.atomic():
        member = Member.objects.select_for_update().get(pk=member.pk)
        member.time_zone = time_zone
        member.full_clean(exclude=["user", "topic", "cohort", "speaker"], validate_unique=False)
        member.save(update_fields=["time_zone"])
        ReminderOptOut.objects.filter(member=member, kind__in=kinds).delete()
        ReminderOptOut.objects.bulk_create(
            [
                ReminderOptOut(member=member, kind=kind)
                for kind in Milestone.Kind.values
                if kind not in kinds
            ],
            ignore_conflicts=True,
        )
    return member


def reset_calendar_feed(member, *, user):
    """A new secret address for the member's private calendar; the old one stops working."""
    if member.user_id != user.pk or member.removed_at:
        raise PermissionDenied
    with transaction.atomic():
        member = Member.objects.select_for_update().get(pk=member.pk)
        member.calendar_token = secrets.token_urlsafe(32)
        member.save(update_fields=["calendar_token"])
    return member


# --- Reviewers ----------------------------------------------------------------------------


def name_reviewer(cohort, *, user, email, topic=None):
    """Let an existing account review one topic's work in the cohort, or every topic's."""
    require_organiser(user)
    reviewer = User.objects.filter(email__iexact=normalise_email(email)).first()
    if reviewer is None:
        raise ValidationError(
            {"email": _("No account has this address. The reviewer needs an account first.")}
        )
    with transaction.atomic():
        if Reviewer.objects.filter(cohort=cohort, user=reviewer, topic=topic).exists():
            raise ValidationError({"email": _("This person reviews this already.")})
        role = Reviewer.objects.create(cohort=cohort, topic=topic, user=reviewer, named_by=user)
    return role


def remove_reviewer(reviewer, *, user):
    require_organiser(user)
    with transaction.atomic():
        reviewer.delete()
    return reviewer


# --- Notifications ------------------------------------------------------------------------


def notify(users, *, message, url="", params=None):
    """A notification for each user, `message` (marked with gettext_noop) in their language."""
    notifications = []
    for recipient in users:
        with translation.override(recipient.language):
            text = gettext(message) % (params or {})
        notifications.append(Notification(recipient=recipient, text=text[:300], url=url))
    return Notification.objects.bulk_create(notifications)


def mark_notifications_read(user, *, notification_ids=None):
    """Mark the user's unread notifications read (all, or the given ones); return how many."""
    with transaction.atomic():
        unread = Notification.objects.visible_to(user).unread()
        if notification_ids is not None:
            unread = unread.filter(pk__in=notification_ids)
        return unread.update(read_at=timezone.now())


# --- Account deletion ---------------------------------------------------------------------


def request_account_deletion(user, *, reason=""):
    """Ask the organisers to delete the user's account; they are told by email and notice.

    Raises ValidationError when a request is waiting already.
    """
    with transaction.atomic():
        pending = DeletionRequest.objects.filter(user=user, status=DeletionRequest.Status.PENDING)
        if pending.exists():
            raise ValidationError(_("Your request is waiting for an organiser already."))
        deletion = DeletionRequest.objects.create(user=user, reason=reason)
        organisers = User.objects.filter(groups__name=Role.ORGANISER, is_active=True).distinct()
        notify(
            organisers,
            message=gettext_noop("%(name)s asks for their account to be deleted."),
            url=reverse("organise-cohorts:deletion-requests"),
            params={"name": user.get_full_name()},
        )
        queue_after_commit(tasks.send_deletion_request_notice, request_id=deletion.pk)
    return deletion


def confirm_account_deletion(deletion, *, user, note=""):
    """Delete the account; its memberships stay, unnamed, so the group's work keeps its author.

    Side effects: profile fields and photos are erased, pending reminders cancelled, the
    person's notifications, email addresses and reviewer roles go with the account, and
    they get a last email saying it is done.
    """
    require_organiser(user)
    with transaction.atomic():
        deletion = DeletionRequest.objects.select_for_update().get(pk=deletion.pk)
        if deletion.status != DeletionRequest.Status.PENDING or deletion.user is None:
            raise ValidationError(_("This request has been decided already."))
        account = deletion.user
        if account.pk == user.pk:
            raise ValidationError(_("Another organiser must confirm the deletion of your account."))
        members = list(Member.objects.select_for_update().filter(user=account))
        photos = [member.photo.name for member in members if member.photo]
        now = timezone.now()
        for member in members:
            member.user = None
            member.name = ""
            member.organisation = member.title = member.bio = ""
            member.photo = ""
            member.is_public = member.is_organisation_public = member.is_title_public = False
            member.is_bio_public = member.is_photo_public = False
            member.speaker = None
            member.removed_at = now
            member.save()
        Reminder.objects.filter(
            member__in=members, status__in=[Reminder.Status.PENDING, Reminder.Status.CLAIMED]
        ).update(status=Reminder.Status.CANCELLED, reason="account deleted")
        email, language = account.email, account.language
        deletion.status = DeletionRequest.Status.CONFIRMED
        deletion.decided_at, deletion.decided_by, deletion.note = now, user, note
        deletion.save()
        account.delete()
        storage = Member._meta.get_field("photo").storage
        for name in photos:
            transaction.on_commit(partial(storage.delete, name))
        queue_after_commit(tasks.send_account_deleted, email=email, language=language)
    return deletion


def decline_account_deletion(deletion, *, user, note=""):
    """Keep the account; the person is told why by email and notice."""
    require_organiser(user)
    with transaction.atomic():
        deletion = DeletionRequest.objects.select_for_update().get(pk=deletion.pk)
        if deletion.status != DeletionRequest.Status.PENDING:
            raise ValidationError(_("This request has been decided already."))
        deletion.status = DeletionRequest.Status.DECLINED
        deletion.decided_at, deletion.decided_by, deletion.note = timezone.now(), user, note
        deletion.save()
        notify(
            [deletion.user],
            message=gettext_noop("Your account deletion request was declined: %(note)s"),
            url=reverse("programme:delete-account"),
            params={"note": note or "—"},
        )
    return deletion
