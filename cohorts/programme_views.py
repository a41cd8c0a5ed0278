"""A member's pages under /programme/: the dashboard, accepting an invitation, the profile,
their data, account deletion and notifications.
"""

import json

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import ListView, TemplateView

from accounts.models import User
from cohorts import services
from cohorts.exports import member_data
from cohorts.files import private_file_response
from cohorts.forms import (
    AcceptInvitationForm,
    DeletionRequestForm,
    NotificationsReadForm,
    ProfileForm,
)
from cohorts.models import (
    DeletionRequest,
    Invitation,
    Member,
    Notification,
    Reviewer,
    can_see_group,
)
from topics.boards import member_groups, next_milestones
from wecity.render import EvaluatedListMixin

NOTIFICATIONS_PAGE_SIZE = 50


def add_service_errors(form, error):
    """Show a service's ValidationError next to the form's fields, the rest above them."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)


class DashboardView(LoginRequiredMixin, TemplateView):
    """My programme: each of my groups, what is due next, the latest version and its review."""

    template_name = "cohorts/dashboard.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        groups = member_groups(user)
        reviewing = list(
            Reviewer.objects.filter(user=user)
            .select_related("cohort", "topic")
            .order_by("-cohort__starts_on", "topic__position")
        )
        cohort_ids = {group["member"].cohort_id for group in groups}
        context.update(
            groups=groups,
            reviewing=reviewing,
            milestones=next_milestones(cohort_ids) if cohort_ids else [],
        )
        return context


# --- Invitations --------------------------------------------------------------------------


class InvitationView(View):
    """The link in an invitation email: create the account (or sign in), then join."""

    template_name = "cohorts/invitation.html"

    def get_invitation(self, token):
        invitation = (
            Invitation.objects.select_related("cohort", "topic").filter(token=token).first()
        )
        if invitation is None:
            raise Http404
        return invitation

    def render_page(self, request, invitation, form=None):
        user = request.user
        problem = services.invitation_problem(invitation)
        wrong_account = user.is_authenticated and user.email.lower() != invitation.email
        has_account = (
            not user.is_authenticated
            and not problem
            and User.objects.filter(email__iexact=invitation.email).exists()
        )
        context = {
            "invitation": invitation,
            "problem": problem,
            "wrong_account": wrong_account,
            "has_account": has_account,
            "form": form or AcceptInvitationForm(initial={"name": invitation.name}),
            "login_url": f"{reverse('account_login')}?next={request.path}",
        }
        return render(request, self.template_name, context)

    def get(self, request, token):
        return self.render_page(request, self.get_invitation(token))

    def post(self, request, token):
        invitation = self.get_invitation(token)
        if request.user.is_authenticated:
            form = AcceptInvitationForm()
            try:
                services.accept_invitation(invitation, user=request.user)
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
                return redirect(request.path)
        else:
            form = AcceptInvitationForm(request.POST)
            if not form.is_valid():
                return self.render_page(request, invitation, form)
            try:
                member = services.accept_invitation(
                    invitation,
                    name=form.cleaned_data["name"],
                    password=form.cleaned_data["password1"],
                )
            except ValidationError as error:
                add_service_errors(form, error)
                return self.render_page(request, invitation, form)
            login(request, member.user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(
            request,
            _("Welcome to %(cohort)s! You work in the %(topic)s group.")
            % {"cohort": invitation.cohort.name, "topic": invitation.topic.display_name},
        )
        return redirect("programme:dashboard")


# --- Profile, data, deletion --------------------------------------------------------------


def own_membership(user, cohort_slug):
    return get_object_or_404(
        Member.objects.active().filter(user=user).select_related("cohort", "topic"),
        cohort__slug=cohort_slug,
    )


def photo_url(member):
    return reverse("programme:member-photo", kwargs={"pk": member.pk})


class ProfileView(LoginRequiredMixin, View):
    template_name = "cohorts/profile.html"

    def get(self, request, cohort):
        member = own_membership(request.user, cohort)
        form = ProfileForm(instance=member, photo_url=photo_url(member))
        return render(request, self.template_name, {"member": member, "form": form})

    def post(self, request, cohort):
        member = own_membership(request.user, cohort)
        form = ProfileForm(
            request.POST, request.FILES, instance=member, photo_url=photo_url(member)
        )
        if form.is_valid():
            try:
                services.update_profile(member, user=request.user, **form.cleaned_data)
            except ValidationError as error:  # the storage could not take the photo
                form.add_error(None, error)
            else:
                messages.success(request, _("Your profile is saved."))
                return redirect("programme:profile", cohort=cohort)
        # The saved profile again, its cohort and topic with it (the page names them).
        member.refresh_from_db(from_queryset=Member.objects.select_related("cohort", "topic"))
        return render(request, self.template_name, {"member": member, "form": form})


class MemberPhotoView(View):
    """A member's photo: for everyone when they made it public, else for their group."""

    def get(self, request, pk):
        member = get_object_or_404(Member.objects.visible_to(request.user), pk=pk)
        if not member.photo:
            raise Http404
        if not member.public_photo and not can_see_group(
            request.user, cohort_id=member.cohort_id, topic_id=member.topic_id
        ):
            raise Http404
        return private_file_response(
            member.photo,
            filename=member.photo.name.rsplit("/", 1)[-1],
            content_type=None,
            as_attachment=False,
        )


class DataExportView(LoginRequiredMixin, View):
    def get(self, request):
        data = json.dumps(
            member_data(request.user), cls=DjangoJSONEncoder, ensure_ascii=False, indent=2
        )
        response = HttpResponse(data, content_type="application/json; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="wecity-my-data.json"'
        response["Cache-Control"] = "private, no-store"
        return response


class DeleteAccountView(LoginRequiredMixin, View):
    template_name = "cohorts/delete_account.html"

    def render_page(self, request, form=None):
        requests = list(
            DeletionRequest.objects.filter(user=request.user).order_by("-requested_at")[:5]
        )
        return render(
            request,
            self.template_name,
            {
                "form": form or DeletionRequestForm(),
                "requests": requests,
                "pending": any(r.status == DeletionRequest.Status.PENDING for r in requests),
            },
        )

    def get(self, request):
        return self.render_page(request)

    def post(self, request):
        form = DeletionRequestForm(request.POST)
        if form.is_valid():
            try:
                services.request_account_deletion(request.user, reason=form.cleaned_data["reason"])
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(
                    request,
                    _("Your request is sent. An organiser will confirm it; you will get an email."),
                )
                return redirect("programme:delete-account")
        return self.render_page(request, form)


# --- Notifications ------------------------------------------------------------------------


class NotificationListView(LoginRequiredMixin, EvaluatedListMixin, ListView):
    template_name = "cohorts/notifications.html"
    context_object_name = "notifications"
    paginate_by = NOTIFICATIONS_PAGE_SIZE

    def get_queryset(self):
        return Notification.objects.visible_to(self.request.user).order_by("-created_at", "-id")


class NotificationsReadView(LoginRequiredMixin, View):
    """Mark one notification read and follow its link, or mark them all read."""

    http_method_names = ["post"]

    def post(self, request):
        form = NotificationsReadForm(request.POST)
        one = form.cleaned_data.get("notification") if form.is_valid() else None
        if one:
            notification = get_object_or_404(Notification.objects.visible_to(request.user), pk=one)
            services.mark_notifications_read(request.user, notification_ids=[one])
            if notification.url and url_has_allowed_host_and_scheme(
                notification.url, allowed_hosts={request.get_host()}
            ):
                return redirect(notification.url)
        else:
            services.mark_notifications_read(request.user)
        return redirect("programme:notifications")
