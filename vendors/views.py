from django.http import HttpResponse


def apply(request):  # replaced by the vendors work
    return HttpResponse("placeholder")


def switch(request):  # replaced by the vendors work
    return HttpResponse("placeholder")
