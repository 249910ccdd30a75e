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


BODIES = [
    b"CallSid=CA1&Digits=4&Digits=5&From=%2B447700900123&Empty=",
    b"SpeechResult=side+affects&Confidence=0.42&Odd=%ZZ&Caf%C3%A9=%C3%A9t%C3%A9",
    b"",
    b"Bad=\xff\xfe",  # not UTF-8
    b"noequals&a=1&&b",
]


@pytest.mark.parametrize("body", BODIES)
@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "text/plain", None,
                                          "Application/X-WWW-Form-Urlencoded; charset=UTF-8"])
def test_a_form_reads_as_werkzeug_reads_it(body, content_type):
    from flask import Request

    def environ() -> dict:
        headers = {"Content-Type": content_type} if content_type else {}
        return EnvironBuilder(method="POST", path="/voice", data=body, headers=headers).get_environ()

    ours, theirs = LineRequest(environ()), Request(environ())
    assert list(ours.form.items(multi=True)) == list(theirs.form.items(multi=True))
    assert not ours.files and not theirs.files
    assert ours.get_data() == theirs.get_data()  # what is left of the body, either way


def test_a_form_over_the_limit_is_refused_as_werkzeug_refuses_it():
    from werkzeug.exceptions import RequestEntityTooLarge

    builder = EnvironBuilder(method="POST", path="/voice", data=b"a=" + b"1" * 100,
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    request = LineRequest(builder.get_environ())
    request.max_content_length = 50
    with pytest.raises(RequestEntityTooLarge):
        request.form  # noqa: B018


def test_a_form_of_unknown_length_reads_as_werkzeug_reads_it():
    """A chunked body (no Content-Length; the server ends the stream, as gunicorn does)."""
    from io import BytesIO

    from flask import Request

    def environ() -> dict:
        built = EnvironBuilder(method="POST", path="/voice", data=BODIES[0],
                               headers={"Content-Type": "application/x-www-form-urlencoded"}).get_environ()
        del built["CONTENT_LENGTH"]
        return {**built, "wsgi.input": BytesIO(BODIES[0]), "wsgi.input_terminated": True}

    ours, theirs = LineRequest(environ()), Request(environ())
    assert list(ours.form.items(multi=True)) == list(theirs.form.items(multi=True))
    assert ours.form.getlist("Digits") == ["4", "5"]
