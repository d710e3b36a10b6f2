from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView


class ApiRootView(APIView):
    """Entry point of the TMCS API: links to the schema, the docs and each resource."""

    permission_classes = [AllowAny]

    @extend_schema(summary="API 入口", responses={200: dict})
    def get(self, request, format=None):
        def link(name):
            return reverse(name, request=request, format=format)

        return Response(
            {
                "schema": link("api-schema"),
                "docs": link("api-docs"),
                "redoc": link("api-redoc"),
                "me": link("directory-api:me"),
                "divisions": link("directory-api:division-list"),
                "organizations": link("directory-api:organization-list"),
                "persons": link("directory-api:person-list"),
                "users": link("directory-api:user-list"),
                "api_clients": link("directory-api:api-client-list"),
                "notifications": link("directory-api:notification-list"),
                "assets": link("resources-api:asset-list"),
                "valuation_runs": link("valuation-api:run-list"),
                "parameter_sets": link("valuation-api:parameter-set-list"),
            }
        )
