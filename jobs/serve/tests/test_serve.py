"""The local inference server on a tiny model built on the spot: the serving contract over real HTTP
(ping, chat, legacy, streaming, bad bodies), the metrics it would publish, how it decides its endpoint
is gone, and the entry point as the local runner starts and stops it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

SERVE_DIR = Path(__file__).resolve().parents[1]
TRAIN_DIR = SERVE_DIR.parent / "train"
for path in (SERVE_DIR, TRAIN_DIR, TRAIN_DIR / "tests"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from llmtwin_serve.generation import Generator  # noqa: E402
from llmtwin_serve.metrics import EndpointWatch, Meter, Publisher, metric_data  # noqa: E402
from llmtwin_serve.server import make_server  # noqa: E402
from train_testkit import build_base_model  # noqa: E402
from llmtwin_train.toy_model import CHAT_TEMPLATE  # noqa: E402


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_base_model(tmp_path_factory.mktemp("model"), CHAT_TEMPLATE)


@pytest.fixture(scope="module")
def served(model_dir: Path):
    meter = Meter()
    server = make_server("127.0.0.1", 0, Generator(model_dir), meter)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", meter
    server.shutdown()


def post(url: str, body: object) -> tuple[int, bytes]:
    request = urllib.request.Request(f"{url}/invocations", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_ping_answers_once_the_model_is_loaded(served) -> None:
    url, _ = served
    with urllib.request.urlopen(f"{url}/ping", timeout=10) as answer:
        assert answer.status == 200


def test_a_chat_body_gets_a_chat_completion_and_is_counted(served) -> None:
    url, meter = served
    before = meter.total
    status, raw = post(url, {"messages": [{"role": "user", "content": "Tell me about the harbour."}], "max_tokens": 8, "temperature": 0})
    assert status == 200
    answer = json.loads(raw)
    assert answer["object"] == "chat.completion"
    assert isinstance(answer["choices"][0]["message"]["content"], str)
    assert answer["usage"]["completion_tokens"] <= 8
    assert meter.total == before + 1


def test_the_legacy_body_gets_generated_text(served) -> None:
    url, _ = served
    status, raw = post(url, {"inputs": "Hello", "parameters": {"max_new_tokens": 4, "temperature": 0}})
    assert status == 200
    assert isinstance(json.loads(raw)[0]["generated_text"], str)


def test_streaming_sends_chunks_then_done(served) -> None:
    url, _ = served
    status, raw = post(url, {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 6, "temperature": 0, "stream": True})
    assert status == 200
    events = [line[len("data: ") :] for line in raw.decode().split("\n") if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(event) for event in events[:-1]]
    assert all(chunk["object"] == "chat.completion.chunk" for chunk in chunks)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant"}
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"prompt": "hi"}, '"messages"'),
        ({"messages": []}, '"messages"'),
        ({"messages": [{"role": "robot", "content": "x"}]}, "messages[0]"),
        ({"messages": [{"role": "user", "content": "x"}], "max_tokens": 0}, "max_tokens"),
        ({"inputs": "x", "parameters": {"temperature": 9}}, "temperature"),
    ],
)
def test_a_bad_body_is_a_400_naming_the_field(served, body: object, named: str) -> None:
    url, _ = served
    status, raw = post(url, body)
    assert status == 400
    assert named in json.loads(raw)["error"]


def test_metrics_are_sagemakers_and_absent_for_an_idle_minute() -> None:
    assert metric_data("ep", "AllTraffic", [], 0) == []
    data = metric_data("ep", "AllTraffic", [1000.0, 3000.0], 1_700_000_000)
    invocations, latency = data
    assert invocations["MetricName"] == "Invocations" and invocations["Value"] == 2.0
    assert invocations["Dimensions"] == [{"Name": "EndpointName", "Value": "ep"}, {"Name": "VariantName", "Value": "AllTraffic"}]
    assert latency["StatisticValues"] == {"SampleCount": 2.0, "Sum": 4000.0, "Minimum": 1000.0, "Maximum": 3000.0}
    assert latency["Unit"] == "Microseconds"


def test_the_watch_stops_only_after_it_served_and_lost_the_endpoint() -> None:
    watch = EndpointWatch("ep", "cfg-new", adopt_timeout_seconds=600, started=0)
    # Deploying: the endpoint still serves the old config, or does not exist yet.
    assert watch.verdict({"EndpointConfigName": "cfg-old"}, 10) is None
    assert watch.verdict(None, 20) is None
    assert watch.verdict({"EndpointConfigName": "cfg-new"}, 30) is None
    assert "now serves config cfg-next" in (watch.verdict({"EndpointConfigName": "cfg-next"}, 40) or "")
    assert "deleted" in (EndpointWatch("ep", "c", 600, started=0, seen_current=True).verdict(None, 1) or "")
    assert "never served" in (EndpointWatch("ep", "c", 600, started=0).verdict(None, 601) or "")


class FakeClientError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.response = {"Error": {"Code": code, "Message": message}}


class FakeAws:
    def __init__(self, endpoint: dict | None) -> None:
        self.endpoint, self.put = endpoint, []

    def put_metric_data(self, **request: object) -> None:
        self.put.append(request)

    def describe_endpoint(self, EndpointName: str) -> dict:  # noqa: N803 - boto3's argument name
        if self.endpoint is None:
            raise FakeClientError("ValidationException", f"Could not find endpoint {EndpointName}")
        return self.endpoint


def test_a_tick_publishes_what_was_served_and_reports_a_deleted_endpoint() -> None:
    aws = FakeAws({"EndpointConfigName": "cfg"})
    meter = Meter()
    meter.record(0.5)
    publisher = Publisher(meter, EndpointWatch("ep", "cfg", 600), "AllTraffic", 60, lambda: (aws, aws), lambda _: None)
    assert publisher.tick() is None
    assert aws.put[0]["Namespace"] == "AWS/SageMaker"
    assert publisher.tick() is None and len(aws.put) == 1  # an idle minute puts nothing
    aws.endpoint = None
    assert publisher.tick() == "endpoint ep was deleted"


def test_the_first_look_comes_at_once_not_an_interval_in() -> None:
    # With an hour's interval, only a look at start can have seen the endpoint within seconds: a server
    # whose endpoint is deleted within its first interval then stops at the next look.
    aws = FakeAws({"EndpointConfigName": "cfg"})
    publisher = Publisher(Meter(), EndpointWatch("ep", "cfg", 600), "AllTraffic", 3600, lambda: (aws, aws), lambda _: None)
    thread = threading.Thread(target=publisher.run, daemon=True)
    thread.start()
    deadline = time.time() + 10
    while not publisher.watch.seen_current and time.time() < deadline:
        time.sleep(0.01)
    publisher.stop()
    thread.join(timeout=5)
    assert publisher.watch.seen_current
    assert not thread.is_alive()


def test_the_entry_point_serves_writes_where_and_stops_on_sigterm(model_dir: Path, tmp_path: Path) -> None:
    server_file = tmp_path / "endpoint.json"
    env = {
        **os.environ,
        "LLMTWIN_MODEL_DIR": str(model_dir),
        "LLMTWIN_ENDPOINT_NAME": "ep",
        "LLMTWIN_CONFIG_NAME": "cfg",
        "LLMTWIN_SERVER_FILE": str(server_file),
        "LLMTWIN_METRICS_INTERVAL_SECONDS": "3600",
        # Its last publish on the way out goes nowhere, fast.
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_MAX_ATTEMPTS": "1",
    }
    process = subprocess.Popen([sys.executable, str(SERVE_DIR / "serve.py")], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.time() + 120
        while not server_file.exists():
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            assert time.time() < deadline
            time.sleep(0.2)
        where = json.loads(server_file.read_text())
        assert where["pid"] == process.pid and where["configName"] == "cfg"
        status, _ = post(where["url"], {"messages": [{"role": "user", "content": "Hi"}], "max_tokens": 2})
        assert status == 200
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    assert "1 invocations served" in output
    assert not server_file.exists()
