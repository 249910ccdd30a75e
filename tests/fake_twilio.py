"""A fake of Twilio's recordings API for the staff-recording tests: a real HTTP server on 127.0.0.1.

``GET /2010-04-01/Accounts/<sid>/Recordings/RE<32 hex>.wav`` with HTTP basic auth (account SID
and auth token) answers a real WAV file (8 s, 8 kHz mono, 16-bit), as Twilio does, with
``audio/x-wav``. Wrong or missing credentials: 401. A recording in ``gone``, another account, or
another path: 404 with Twilio's JSON error. Tests change ``token``, ``gone`` or ``body`` to make
Twilio refuse, lose a recording, or answer something that is not audio; ``requests`` lists
what was asked (path, whether the credentials were right).
"""

from __future__ import annotations

import io
import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pytest
import soundfile
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

__all__ = ["ACCOUNT_SID", "AUTH_TOKEN", "FakeTwilio", "fake_twilio", "message_wav"]

ACCOUNT_SID = "AC" + "5e" * 16
AUTH_TOKEN = "test-auth-token"  # the token tests/conftest.py gives the line
SAMPLE_RATE = 8000
SECONDS = 8.0  # as long as the simulator says its callers speak (RecordingDuration 8)
_PATH_RE = re.compile(r"/2010-04-01/Accounts/(AC[0-9a-f]{32})/Recordings/(RE[0-9a-f]{32})\.wav")


def message_wav() -> bytes:
    """A voicemail-like WAV: 8 s of 8 kHz mono 16-bit PCM, a tone rising and falling in pitch."""
    t = np.arange(int(SAMPLE_RATE * SECONDS)) / SAMPLE_RATE
    pitch = 300 + 150 * np.sin(2 * np.pi * 0.5 * t)
    signal = 0.3 * np.sin(2 * np.pi * np.cumsum(pitch) / SAMPLE_RATE)
    out = io.BytesIO()
    soundfile.write(out, signal.astype(np.float32), SAMPLE_RATE, format="WAV", subtype="PCM_16")
    return out.getvalue()


def _error(status: int, message: str) -> Response:
    body = {"code": 20000 + status, "message": message, "more_info": "", "status": status}
    return Response(json.dumps(body), status=status, mimetype="application/json")


@dataclass
class FakeTwilio:
    url: str
    wav: bytes
    token: str = AUTH_TOKEN
    account_sid: str = ACCOUNT_SID
    gone: set[str] = field(default_factory=set)
    body: tuple[bytes, str] | None = None  # (content, content type) instead of the WAV
    requests: list[tuple[str, bool]] = field(default_factory=list)

    def __call__(self, environ: dict, start_response):  # type: ignore[no-untyped-def]
        request = Request(environ)
        auth = request.authorization
        authorised = (auth is not None and auth.type == "basic"
                      and (auth.username, auth.password) == (self.account_sid, self.token))
        self.requests.append((request.path, authorised))
        if not authorised:
            response = _error(401, "Authenticate")
            response.headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
        elif request.method != "GET":
            response = _error(405, "Method not allowed")
        else:
            match = _PATH_RE.fullmatch(request.path)
            if match is None or match.group(1) != self.account_sid or match.group(2) in self.gone:
                response = _error(404, f"The requested resource {request.path} was not found")
            elif self.body is not None:
                response = Response(self.body[0], mimetype=self.body[1])
            else:
                response = Response(self.wav, mimetype="audio/x-wav")
        return response(environ, start_response)


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    """The fake recordings API, serving on a free port of 127.0.0.1 until the test ends."""
    holder: list[FakeTwilio] = []
    server: BaseWSGIServer = make_server("127.0.0.1", 0, lambda env, start: holder[0](env, start), threaded=True)
    holder.append(FakeTwilio(f"http://127.0.0.1:{server.server_port}", message_wav()))
    thread = threading.Thread(target=server.serve_forever, name="fake-twilio", daemon=True)
    thread.start()
    yield holder[0]
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)
