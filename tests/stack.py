"""Real servers of the production topology for tests: redis-server and a Celery worker process."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def redis_server(workdir: Path) -> Iterator[str]:
    """redis-server (Debian's package) on a free loopback port, nothing persisted; yields its URL."""
    redis = Redis(workdir)
    try:
        yield redis.start()
    finally:
        redis.stop()


class Redis:
    """A redis-server that a fault test kills (`kill -9`) and starts again on the same port."""

    def __init__(self, workdir: Path) -> None:
        self.workdir, self.port = workdir, free_port()
        self.url = f"redis://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> str:
        binary = shutil.which("redis-server")
        if binary is None:
            if os.environ.get("CI"):
                pytest.fail("redis-server is missing: .ci/run installs it (apt-get install redis-server)")
            pytest.skip("redis-server is not installed (apt-get install redis-server)")
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir), "--protected-mode", "yes"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2) as connection:
                    connection.sendall(b"PING\r\n")
                    if connection.recv(16).startswith(b"+PONG"):
                        return self.url
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        """kill -9: nothing is flushed or closed cleanly."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@contextmanager
def celery_worker(env: dict[str, str], log: Path, beat_schedule: Path | None = None) -> Iterator[subprocess.Popen]:
    """A real `celery worker` process (solo pool, one task at a time) with `env` added to this one's,
    in its own process group (`kill_group`); with `beat_schedule`, its embedded beat too."""
    beat = ["--beat", "--schedule", str(beat_schedule)] if beat_schedule else []
    with log.open("ab") as output:
        start = output.tell()
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "smart_attendance", "worker", "--pool", "solo",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "INFO", *beat],
            cwd=ROOT, env={**os.environ, **env}, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while b"ready." not in log.read_bytes()[start:]:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the celery worker did not start:\n" + log.read_text(errors="replace"))
            time.sleep(0.1)
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                kill_group(process)


def kill_group(process: subprocess.Popen) -> None:
    """kill -9 of the process and every process of its group (a worker, its pool and its beat)."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


@contextmanager
def web_server(env: dict[str, str], log: Path) -> Iterator[str]:
    """The product under gunicorn (one worker, four threads) on a free loopback port, with `env` added to
    this one's; yields its URL once /healthz answers."""
    import requests

    port = free_port()
    with log.open("ab") as output:
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("gunicorn")), "smart_attendance.wsgi", "-b", f"127.0.0.1:{port}",
             "-w", "1", "--threads", "4", "--timeout", "60"],
            cwd=ROOT, env={**os.environ, **env}, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start:\n" + log.read_text(errors="replace"))
            try:
                if requests.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            kill_group(process)


def wait_for(condition: Callable[[], Any], seconds: float, what: str) -> Any:
    """Polls `condition` until it is true, for at most `seconds` (a bound, not a speed claim)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


def use_broker(url: str) -> None:
    """This process publishes to the test's redis-server: new connection and producer pools for it."""
    from smart_attendance.celery import app as celery_app

    celery_app.conf.broker_url = url
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def database_url() -> str:
    """The URL of the test database this process uses, for another process to open the same one."""
    from django.db import connection

    settings = connection.settings_dict
    if settings["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{settings['NAME']}"
    return (f"postgres://{settings['USER']}:{settings['PASSWORD']}@{settings['HOST'] or '127.0.0.1'}:"
            f"{settings['PORT'] or 5432}/{settings['NAME']}")
