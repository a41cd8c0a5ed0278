from django.contrib import admin
from django.contrib.auth import admin as auth_admin
from django.contrib.auth import forms as auth_forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.models import ApiToken, User


class EmailFieldMixin:
    def clean_email(self):
        # The same normalisation as UserManager: addresses are stored in lower case, and
        # a taken address is named on the field, before the database constraint sees it.
        email = User.objects.normalize_email(self.cleaned_data["email"]).lower()
        if User.objects.filter(email__iexact=email).exclude(pk=self.instance.pk).exists():
            raise ValidationError(
                _("A user with this email address already exists."), code="unique"
            )
        return email


class UserCreationForm(EmailFieldMixin, auth_forms.BaseUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


class UserChangeForm(EmailFieldMixin, auth_forms.UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(auth_admin.UserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Personal info"), {"fields": ("name", "language")}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    readonly_fields = ("last_login", "date_joined")
    list_display = ("email", "name", "language", "is_staff", "is_active", "last_login")
    list_filter = ("is_staff", "is_superuser", "is_active", "groups", "language")
    search_fields = ("email", "name")
    ordering = ("email",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are created by their owners on their tokens page; admins can see and delete them."""

    list_display = ("name", "user", "prefix", "created_at", "last_used_at")
    list_select_related = ("user",)
    search_fields = ("name", "user__email", "prefix")
    readonly_fields = ("user", "name", "prefix", "key_hash", "created_at", "last_used_at")
    ordering = ("-created_at",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
