import pytest
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction

from accounts.models import Role, User, role_group
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_user_factory_default_passes_full_clean():
    user = UserFactory()

    user.full_clean()

    assert User.objects.filter(pk=user.pk).count() == 1


def test_user_email_is_unique_ignoring_case():
    User.objects.create(email="Li.Lei@example.com")

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(email="li.lei@EXAMPLE.com")


def test_user_manager_stores_email_in_lower_case():
    user = User.objects.create_user("Li.Lei@Example.COM", password="s3cret-pass")

    assert (user.email, user.check_password("s3cret-pass")) == ("li.lei@example.com", True)


def test_user_manager_refuses_an_empty_email():
    with pytest.raises(ValueError, match="email address is required"):
        User.objects.create_user("", password="s3cret-pass")


def test_user_manager_create_superuser_is_staff_and_superuser():
    user = User.objects.create_superuser("root@example.com", password="s3cret-pass")

    assert (user.is_staff, user.is_superuser) == (True, True)


def test_role_group_is_created_once_per_role():
    first = role_group(Role.ORGANISER)

    second = role_group(Role.ORGANISER)

    assert (first, first.name, Group.objects.count()) == (second, "organisers", 1)


@pytest.mark.parametrize("role", list(Role))
def test_user_has_role_of_their_group_only(role):
    user = UserFactory(roles=[role])

    held = {r for r in Role if user.has_role(r)}

    assert held == {role}


def test_user_without_group_holds_no_role():
    user = UserFactory()

    held = {r for r in Role if user.has_role(r)}

    assert held == set()


def test_superuser_holds_every_role():
    user = UserFactory(is_superuser=True)

    held = {r for r in Role if user.has_role(r)}

    assert held == set(Role)


@pytest.mark.parametrize("is_superuser", [False, True])
def test_inactive_user_holds_no_role(is_superuser):
    user = UserFactory(is_active=False, is_superuser=is_superuser, roles=list(Role))

    held = {r for r in Role if user.has_role(r)}

    assert held == set()


def test_user_role_properties_follow_the_groups():
    user = UserFactory(roles=[Role.ORGANISER])

    flags = (user.is_organiser, user.is_portal_admin)

    assert flags == (True, False)


@pytest.mark.parametrize(
    ("name", "expected"),
    [("李雷", ("李雷", "李雷", "李雷")), ("", ("li.lei@example.com",) * 2 + ("li.lei",))],
    ids=["with name", "without name"],
)
def test_user_names_fall_back_to_the_email(name, expected):
    user = UserFactory.build(name=name, email="li.lei@example.com")

    names = (str(user), user.get_full_name(), user.get_short_name())

    assert names == expected
