"""The API's view of the signed-in user: who the credentials belong to, and their memberships."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.models import Role
from cohorts.models import Member
from wecity.api import ApiView


class MembershipSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The membership's id (a member id).")
    cohort = serializers.CharField(source="cohort.slug", help_text="The cohort (its slug).")
    topic = serializers.CharField(source="topic.slug", help_text="The topic group (its slug).")


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The user's id.")
    email = serializers.EmailField(help_text="The user's email address.")
    name = serializers.CharField(help_text="The user's name.")
    language = serializers.CharField(help_text="The language of the portal's emails to them.")
    roles = serializers.ListField(
        child=serializers.ChoiceField(choices=Role.choices),
        help_text="The user's roles: organisers, admins, members.",
    )
    memberships = MembershipSerializer(many=True, help_text="The user's cohort memberships.")


class MeView(ApiView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        summary="Who am I",
        description="The user the request's credentials belong to.",
        responses={200: MeSerializer},
    )
    def get(self, request):
        user = request.user
        memberships = (
            Member.objects.active()
            .filter(user=user)
            .select_related("cohort", "topic")
            .order_by("joined_at", "id")
        )
        data = {
            "id": user.pk,
            "email": user.email,
            "name": user.name,
            "language": user.language,
            "roles": [role.value for role in Role if user.has_role(role)],
            "memberships": list(memberships),
        }
        return Response(MeSerializer(data).data)
