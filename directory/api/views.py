from drf_spectacular.utils import extend_schema
from rest_framework import generics, viewsets

from directory.selectors import divisions_for

from .filters import DivisionFilter
from .serializers import DivisionSerializer, MeSerializer


class DivisionViewSet(viewsets.ReadOnlyModelViewSet):
    """Administrative divisions within the caller's reach."""

    serializer_class = DivisionSerializer
    filterset_class = DivisionFilter
    lookup_field = "code"
    lookup_value_regex = r"\d{12}"

    def get_queryset(self):
        # Boundaries can be megabytes each; the list does not show them.
        return (
            divisions_for(self.request.user)
            .select_related("parent")
            .defer("boundary", "parent__boundary")
            .order_by("code")
        )


@extend_schema(summary="当前用户及其任职")
class MeView(generics.RetrieveAPIView):
    serializer_class = MeSerializer

    def get_object(self):
        return self.request.user
