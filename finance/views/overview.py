"""The finance desk's front page."""

from django.shortcuts import render
from django.urls import path


def index(request):
    return render(request, "finance/index.html")


urlpatterns = [path("", index, name="index")]
