from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager, Group
from django.db import models
from django.db.models.functions import Lower, Upper
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """The portal's roles, each a Django group of the same name."""

    ORGANISER = "organisers", _("Organiser")
    ADMIN = "admins", _("Admin")
    MEMBER = "members", _("Member")


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)


class User(AbstractUser):
    """A person who signs in with an email address; there is no username."""

    username = None
    first_name = None
    last_name = None
    email = models.EmailField(_("email address"), unique=True)
    name = models.CharField(_("name"), max_length=100, blank=True)
    language = models.CharField(
        _("language"),
        max_length=10,
        choices=settings.LANGUAGES,
        default=settings.LANGUAGE_CODE,
        help_text=_("The language of the emails the portal sends you."),
    )

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["email"]
        indexes = [
            # `email__iexact` compiles to UPPER(email) = UPPER(…) (the unique index is on
            # LOWER): the invitation page and the services that find an invitee's account.
            models.Index(Upper("email"), name="accounts_user_email_upper"),
        ]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="accounts_user_email_ci_unique",
                violation_error_message=_("A user with this email address already exists."),
            ),
        ]

    def __str__(self):
        return self.name or self.email

    def get_full_name(self):
        return self.name or self.email

    def get_short_name(self):
        return self.name or self.email.split("@")[0]

    def has_role(self, role):
        """Whether the user is in the role's group (superusers hold every role)."""
        if not self.is_authenticated or not self.is_active:
            return False
        if self.is_superuser:
            return True
        return role in self.role_names

    @property
    def role_names(self):
        # Cached per instance: pages ask several times per request.
        if not hasattr(self, "_role_names"):
            self._role_names = frozenset(self.groups.values_list("name", flat=True))
        return self._role_names

    @property
    def is_organiser(self):
        return self.has_role(Role.ORGANISER)

    @property
    def is_portal_admin(self):
        return self.has_role(Role.ADMIN)


def role_group(role):
    """The Django group of a role, created on first use."""
    group, _created = Group.objects.get_or_create(name=role)
    return group


class ApiToken(models.Model):
    """A personal API token: its owner names it, sees its secret once, and revokes it.

    Only the SHA-256 of the secret is stored; a leaked database does not leak tokens.
    """

    PREFIX_LENGTH = 8

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("user"),
    )
    name = models.CharField(
        _("name"), max_length=100, help_text=_("What the token is for, e.g. “dashboard script”.")
    )
    key_hash = models.CharField(_("SHA-256 of the secret"), max_length=64, unique=True)
    prefix = models.CharField(
        _("first characters"),
        max_length=PREFIX_LENGTH,
        help_text=_("The secret's first characters, to tell tokens apart."),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"
