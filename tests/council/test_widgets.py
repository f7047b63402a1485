"""QuickSelect writes the same <select> as Django's own widget."""

import pytest
from django import forms
from django.test.html import parse_html

from council.models import Community
from council.widgets import QuickSelect

CHOICES = [
    ("", "全部社区"),
    ("donghu", "东湖社区"),
    ("a&b", 'quotes " and <tags>'),
    ("群组", [("x1", "第一"), ("x2", "第二")]),
]


@pytest.mark.parametrize("value", [None, "", "donghu", "a&b", "x2", "nowhere"])
def test_a_quick_select_is_the_same_element_as_djangos(value):
    attrs = {"class": "filter-select", "id": "id_community", "required": True}
    django_html = forms.Select(choices=CHOICES).render("community", value, attrs)
    quick_html = QuickSelect(choices=CHOICES).render("community", value, attrs)
    assert parse_html(quick_html) == parse_html(django_html)
    assert "<tags>" not in quick_html  # escaped like Django's


def test_a_model_choice_field_renders_the_same_and_keeps_its_choice(world):
    class Form(forms.Form):
        slow = forms.ModelChoiceField(Community.objects.order_by("name"))
        quick = forms.ModelChoiceField(Community.objects.order_by("name"), widget=QuickSelect)

    form = Form({"slow": world.a.pk, "quick": world.a.pk})
    slow, quick = str(form["slow"]), str(form["quick"])
    assert parse_html(quick.replace("quick", "slow")) == parse_html(slow)
    assert form.is_valid() and form.cleaned_data["quick"] == world.a
