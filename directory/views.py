from django.shortcuts import render

from .selectors import division_tree, reach_prefixes


def index(request):
    divisions = list(division_tree(request.user))
    top = min((len(d.prefix) for d in divisions), default=0)
    return render(
        request,
        "directory/index.html",
        {"divisions": divisions, "top_prefix_length": top, "has_reach": bool(reach_prefixes(request.user))},
    )
