"""A one-process ``switchboard serve`` runs uvicorn without uvicorn's command line.

``cli.uvicorn_server`` registers the ``uvicorn`` package without running its ``__init__``
(which imports ``click``, the supervisors and ``multiprocessing``: ~1.4 MB for the life of
the server, decision 0234). This pins it on the uvicorn installed: the command line stays
out, and a server built from it starts (with a lifespan, whose module imports ``Config``
from the package), answers over a real socket and stops.
"""

from __future__ import annotations

import json
import subprocess
import sys

_SCRIPT = r"""
import json, socket, sys, threading, urllib.request
import switchboard.cli.uvicorn_server as u
before = sorted(m for m in ("click", "uvicorn.main", "uvicorn.supervisors",
                            "multiprocessing") if m in sys.modules)

events = []

async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            events.append(message["type"])
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"answered"})

with socket.socket() as probe:
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
server = u.Server(u.Config(app, host="127.0.0.1", port=port, lifespan="on", ws="none",
                           log_level="warning", server_header=False))
answers = []

def client():
    for _ in range(200):
        if server.started:
            break
        threading.Event().wait(0.05)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
        answers.append([response.status, response.read().decode()])
    server.should_exit = True

threading.Thread(target=client, daemon=True).start()
server.run()
after = sorted(m for m in ("click", "uvicorn.main", "uvicorn.supervisors",
                           "multiprocessing") if m in sys.modules)
print(json.dumps({"before": before, "after": after, "answers": answers,
                  "lifespan": events, "failure": u.STARTUP_FAILURE}))
"""


def test_the_server_runs_without_uvicorns_command_line() -> None:
    out = subprocess.run([sys.executable, "-c", _SCRIPT], capture_output=True, text=True,
                         timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["before"] == [] and report["after"] == [], report
    assert report["answers"] == [[200, "answered"]]
    assert report["lifespan"] == ["lifespan.startup", "lifespan.shutdown"]
    assert report["failure"] == 3  # uvicorn's own exit status for a failed start


def test_an_already_imported_uvicorn_is_used_as_it_is() -> None:
    script = ("import uvicorn, sys\n"
              "import switchboard.cli.uvicorn_server as u\n"
              "print(u.Server is uvicorn.Server, u.Config is uvicorn.Config)")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "True"]
