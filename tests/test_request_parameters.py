"""The app's request parameters (ivr.web.twilio_hooks.LineRequest) answer exactly as werkzeug's:
only an absent field's ``get`` takes another way (no exception raised and caught)."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.test import EnvironBuilder

from ivr.web.twilio_hooks import LineRequest

ITEMS = [("Digits", "1"), ("Digits", "2"), ("From", "+447700900123"), ("Empty", ""), ("Count", "7")]


@pytest.mark.parametrize("key", ["Digits", "From", "Empty", "Count", "Missing", "digits"])
@pytest.mark.parametrize("kind", [None, int, str])
def test_get_answers_as_werkzeug_does(key, kind):
    ours, theirs = LineRequest.parameter_storage_class(ITEMS), ImmutableMultiDict(ITEMS)
    assert ours.get(key, "default", kind) == theirs.get(key, "default", kind)
    assert ours.get(key) == theirs.get(key)
    assert ours.getlist(key) == theirs.getlist(key)
    if key not in theirs:
        with pytest.raises(KeyError):
            ours[key]


def test_a_request_parses_its_form_query_and_cookies_into_them():
    builder = EnvironBuilder(method="POST", path="/voice/key", query_string="k=read&s=2",
                             data={"Digits": "4", "CallSid": "CA1"}, headers={"Cookie": "a=b"})
    request = LineRequest(builder.get_environ())
    for parameters in (request.form, request.args, request.cookies):
        assert isinstance(parameters, LineRequest.parameter_storage_class)
    assert (request.form.get("Digits"), request.form.get("SpeechResult")) == ("4", None)
    assert (request.args.get("s", type=int), request.args.get("p")) == (2, None)
    assert request.cookies.get("a") == "b"
