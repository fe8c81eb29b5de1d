"""`embedrock serve` as a user runs it: banner, a working API, and Ctrl-C leaving nothing behind."""

from __future__ import annotations

import os
import re
import signal
import socket
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

pytestmark = pytest.mark.integration


def processes_in_group(group: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group:  # the process group id follows the state and the parent pid
            found.append(int(stat.parent.name))
    return found


@pytest.mark.skipif(not Path("/proc").exists(), reason="reads process groups from /proc")
def test_serve_prints_the_urls_serves_and_stops_everything_on_ctrl_c() -> None:
    # Given `embedrock serve` started as its own process group, as a terminal does
    command = [sys.executable, "-m", "embedrock_local.cli", "serve", "--port", "0", "--api-key", "k"]
    command += ["--containers", "1"]  # one worker gets every request below
    server = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    assert server.stdout is not None
    banner = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = server.stdout.readline()
        banner.append(line)
        if line.startswith("Ctrl-C") or not line:
            break
    text = "".join(banner)
    url = re.search(r"Embedrock API: (http://\S+)", text)
    assert url, text

    try:
        # When a user follows the banner
        health = requests.get(f"{url[1]}/health", timeout=10)
        refused = requests.post(f"{url[1]}/embeddings", json={"text": "x"}, timeout=10)
        # More requests than Powertools keeps metric values for (100) before it prints them
        with requests.Session() as session:
            statuses = {
                session.post(
                    f"{url[1]}/embeddings", json={"text": "x"}, headers={"x-api-key": "k"}, timeout=10
                ).status_code
                for _ in range(110)
            }
        embedded = requests.post(
            f"{url[1]}/embeddings", json={"text": "x"}, headers={"x-api-key": "k"}, timeout=10
        )
        # And clients hang up, mid-body or before their answer
        host, port = url[1].removeprefix("http://").split(":")
        for request in (
            b"POST /embeddings HTTP/1.1\r\nContent-Length: 99\r\n\r\n{",
            b"GET /docs HTTP/1.1\r\n\r\n",
        ):
            for _ in range(10):
                with socket.create_connection((host, int(port)), timeout=10) as connection:
                    connection.sendall(request)
                    # SO_LINGER 0: the close is a reset, as from a killed client
                    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        assert requests.get(f"{url[1]}/health", timeout=10).status_code == 200
    finally:
        # And presses Ctrl-C (SIGINT to the whole foreground group)
        os.killpg(server.pid, signal.SIGINT)
        server.wait(timeout=30)
    printed = server.stdout.read()
    text += printed

    # Then the banner named the docs and an example, the API worked, and no process is left
    assert f"{url[1]}/docs" in text and "curl" in text and "NOT Amazon Bedrock" in text
    assert health.status_code == 200 and refused.status_code == 403 and embedded.status_code == 200
    assert statuses == {200}
    # And the terminal holds no CloudWatch EMF blob and no per-request log line
    assert '"_aws"' not in printed and '"level"' not in printed, printed[-2000:]
    assert server.returncode == 0
    # Nothing on the terminal for the clients that hung up
    assert "Traceback" not in text and "Error" not in text, text
    # multiprocessing's resource tracker exits once it sees its parent gone: give it a moment
    deadline = time.monotonic() + 10
    while processes_in_group(server.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_in_group(server.pid) == []
