"""Real Celery workers in their own operating-system processes, for the concurrency and fault
stories (no conftest: import what you use).

Each worker is `celery -A marketplace worker --pool solo` pointed at pytest-django's test
database and the test Redis. Its log goes to a file the test reads (which task succeeded, with
what result), and its database sessions carry an application_name, so a test can see in
pg_stat_activity / pg_locks what the worker is doing or waiting for. The broker helpers speak to
Redis the way kombu does: queues are lists, and a job delivered but not yet acknowledged
(acks_late) sits in the `unacked` hash until the worker acknowledges it or the visibility
timeout passes and the broker puts it back in its queue.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import psycopg
from django.db import connection
from kombu import Connection

from marketplace.celery import app as celery_app

PROJECT_ROOT = Path(__file__).resolve().parents[2]
HOSTNAME_SUFFIX = "shequn-tests"


def wait_for(condition: Callable[[], object], *, seconds: float = 30.0, interval: float = 0.05, what: str = ""):
    """Polls until `condition()` is truthy and returns its value; fails the test on timeout."""
    deadline = time.monotonic() + seconds
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds:.0f}s waiting for {what or condition}")
        time.sleep(interval)


def _database_params() -> dict:
    settings_dict = connection.settings_dict
    return {
        "user": settings_dict["USER"] or "",
        "password": settings_dict["PASSWORD"] or "",
        "host": settings_dict["HOST"] or "127.0.0.1",
        "port": str(settings_dict["PORT"] or 5432),
        "dbname": settings_dict["NAME"],  # pytest-django's test_<name> once the database is set up
    }


def database_url(*, application_name: str) -> str:
    """The test database as a DATABASE_URL for a subprocess (settings parse it with dj_database_url)."""
    params = _database_params()
    auth = quote(params["user"]) + (":" + quote(params["password"]) if params["password"] else "")
    return (
        f"postgres://{auth}@{params['host']}:{params['port']}/{params['dbname']}"
        f"?application_name={quote(application_name)}"
    )


@contextmanager
def side_session(*, application_name: str = "test-side-session") -> Iterator[psycopg.Connection]:
    """Another session on the test database, outside Django's connection, to hold locks with."""
    params = _database_params()
    session = psycopg.connect(**params, application_name=application_name, autocommit=True)
    try:
        yield session
    finally:
        session.close()


def sessions_of(application_name: str) -> list[dict]:
    """The worker's live database sessions: state, what it waits for, its current statement."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT pid, state, wait_event_type, wait_event, query FROM pg_stat_activity
            WHERE datname = current_database() AND application_name = %s
            """,
            [application_name],
        )
        columns = [column.name for column in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def advisory_lock_waiters(key: int, application_names: list[str]) -> int:
    """How many sessions of these applications wait for the advisory lock `key` (bigint form)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT COUNT(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND NOT l.granted AND l.database = (
                    SELECT oid FROM pg_database WHERE datname = current_database())
              AND l.classid = %s AND l.objid = %s AND l.objsubid = 1
              AND a.application_name = ANY(%s)
            """,
            [key >> 32, key & 0xFFFFFFFF, application_names],
        )
        return cursor.fetchone()[0]


@dataclass
class Worker:
    """One `celery worker` process consuming its own queue (and optionally the default one)."""

    name: str
    log_path: Path
    also_default_queue: bool = True
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen | None = None

    @property
    def hostname(self) -> str:
        return f"{self.name}@{HOSTNAME_SUFFIX}"

    @property
    def queue(self) -> str:
        """Its own queue: a job sent there runs on this worker and no other."""
        return f"{HOSTNAME_SUFFIX}.{self.name}"

    @property
    def queues(self) -> list[str]:
        return [self.queue, celery_app.conf.task_default_queue] if self.also_default_queue else [self.queue]

    @property
    def application_name(self) -> str:
        return f"worker-{self.name}"

    def start(self) -> None:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "marketplace.settings",
            "DATABASE_URL": database_url(application_name=self.application_name),
            "DB_CONN_MAX_AGE": "0",  # no idle session left behind between jobs
            "CELERY_TASK_ALWAYS_EAGER": "false",
            "PYTHONUNBUFFERED": "1",
            **self.env,
        }
        command = [
            sys.executable, "-m", "celery", "-A", "marketplace", "worker",
            "--pool", "solo", "--loglevel", "INFO", "--hostname", self.hostname,
            "--queues", ",".join(self.queues),
            "--without-mingle", "--without-gossip", "--without-heartbeat",
        ]  # fmt: skip
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait_ready(self, seconds: float = 90.0) -> None:
        def ready() -> bool:
            if not self.alive():
                raise AssertionError(f"worker {self.name} exited:\n{self.log()[-3000:]}")
            return f"{self.hostname} ready." in self.log()

        wait_for(ready, seconds=seconds, interval=0.1, what=f"worker {self.name} to be ready")

    def outcome(self, task_id: str, seconds: float = 60.0) -> str:
        """The logged return value of one job this worker ran; fails if the job raised."""
        succeeded = re.compile(rf"\[{re.escape(task_id)}\] succeeded in [0-9.e-]+s: (.*)$", re.MULTILINE)
        raised = re.compile(rf"\[{re.escape(task_id)}\] raised unexpected: (.*)$", re.MULTILINE)

        def finished() -> str | None:
            log = self.log()
            if failure := raised.search(log):
                raise AssertionError(f"job {task_id} failed on {self.name}: {failure.group(1)}")
            if success := succeeded.search(log):
                return success.group(1).strip()
            if not self.alive():
                raise AssertionError(f"worker {self.name} exited before job {task_id} finished")
            return None

        return wait_for(finished, seconds=seconds, interval=0.1, what=f"job {task_id} on {self.name}")

    def kill(self) -> None:
        """SIGKILL: the process dies at once, mid-statement, with no chance to clean up."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """Warm shutdown (the job at hand finishes), then SIGKILL if it takes too long."""
        if not self.alive():
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()


def start_workers(workers: list[Worker]) -> None:
    """Starts them all at once (each needs a few seconds to import Django) and waits for all."""
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.wait_ready()


# --- The broker -------------------------------------------------------------------------------


@contextmanager
def broker_channel(**transport_options) -> Iterator:
    with Connection(celery_app.conf.broker_url, transport_options=transport_options) as broker:
        yield broker.default_channel


def broker_redeliver_unacked() -> None:
    """What the broker does once the visibility timeout of a job delivered to a worker that never
    acknowledged it (killed) has passed: the job goes back to its queue for another worker. Done
    now, with the timeout taken as already passed, instead of waiting for it (an hour)."""
    with broker_channel(visibility_timeout=0) as channel:
        channel.qos.restore_visible(num=1000)


def broker_drop_unacked(queues: list[str]) -> None:
    """Forgets the jobs sent to these queues and delivered but never acknowledged: their worker
    was killed and no other worker takes its queue over."""
    with broker_channel() as channel:
        client = channel.client
        for tag, delivered in client.hgetall(channel.unacked_key).items():
            _message, _exchange, routing_key = json.loads(delivered)
            if routing_key in queues:
                client.hdel(channel.unacked_key, tag)
                client.zrem(channel.unacked_index_key, tag)


def broker_purge(queues: list[str]) -> None:
    with broker_channel() as channel:
        for queue in queues:
            channel.queue_purge(queue)


def broker_idle(queues: list[str]) -> bool:
    """No job waiting in these queues and none delivered but unacknowledged (running)."""
    with broker_channel() as channel:
        waiting = sum(channel._size(queue) for queue in queues)
        return waiting == 0 and channel.client.hlen(channel.unacked_key) == 0


def wait_until_idle(queues: list[str], seconds: float = 60.0) -> None:
    """Every job (and every job they queued) has run. Checked twice, apart, because a job leaves
    its queue a moment before it is recorded as delivered."""

    def idle_twice() -> bool:
        if not broker_idle(queues):
            return False
        time.sleep(0.3)
        return broker_idle(queues)

    wait_for(idle_twice, seconds=seconds, interval=0.1, what="the workers to run every queued job")
