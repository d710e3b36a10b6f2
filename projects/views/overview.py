"""The projects module's front page."""

from django.shortcuts import render
from django.urls import path


def index(request):
    return render(request, "projects/index.html")


urlpatterns = [path("", index, name="index")]
