"""Local inference server (`python serve.py`), what the local runner runs for a local endpoint: loads the
model folder the runner unpacked from the endpoint's model.tar.gz (as SageMaker unpacks it into
/opt/ml/model), serves /ping and /invocations on a local port, writes where it listens into its job
folder, publishes the endpoint's CloudWatch metrics, and exits when its endpoint is deleted or moved to
another config, or on SIGTERM. On SageMaker the endpoint runs the vLLM (or LMI) container instead."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "train"))  # llmtwin_train.data: the chat template fallback training used

from llmtwin_serve.generation import Generator  # noqa: E402
from llmtwin_serve.metrics import EndpointWatch, Meter, Publisher  # noqa: E402
from llmtwin_serve.server import make_server  # noqa: E402


def _env(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        print(f"llmtwin-serve: {name} is not set (the local runner sets it)", file=sys.stderr, flush=True)
        sys.exit(2)
    return value


def _clients():
    import boto3

    return boto3.client("cloudwatch"), boto3.client("sagemaker")


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stdout)
    model_dir = Path(_env("LLMTWIN_MODEL_DIR"))
    endpoint, config, variant = _env("LLMTWIN_ENDPOINT_NAME"), _env("LLMTWIN_CONFIG_NAME"), _env("LLMTWIN_VARIANT_NAME", "AllTraffic")
    server_file = Path(_env("LLMTWIN_SERVER_FILE"))
    try:
        generator = Generator(model_dir)
    except (OSError, ValueError) as error:
        print(f"llmtwin-serve: cannot load the model: {error}", file=sys.stderr, flush=True)
        return 1
    meter = Meter()
    server = make_server(_env("LLMTWIN_SERVE_HOST", "127.0.0.1"), int(_env("LLMTWIN_SERVE_PORT", "0")), generator, meter)
    host, port = server.server_address[:2]
    stopping = threading.Event()
    reason: list[str] = []

    def stop(why: str) -> None:
        reason.append(why)
        stopping.set()

    signal.signal(signal.SIGTERM, lambda *_: stop("asked to stop (SIGTERM)"))
    signal.signal(signal.SIGINT, lambda *_: stop("interrupted"))
    watch = EndpointWatch(endpoint, config, float(_env("LLMTWIN_ADOPT_TIMEOUT_SECONDS", "1800")))
    publisher = Publisher(meter, watch, variant, float(_env("LLMTWIN_METRICS_INTERVAL_SECONDS", "60")), _clients, stop)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    threading.Thread(target=publisher.run, daemon=True).start()
    url = f"http://{host}:{port}"
    temporary = server_file.with_suffix(".tmp")
    temporary.write_text(json.dumps({"url": url, "pid": os.getpid(), "endpointName": endpoint, "configName": config, "startedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}))
    temporary.replace(server_file)
    print(f"llmtwin-serve: serving {endpoint} ({config}) at {url}", flush=True)
    stopping.wait()
    publisher.stop()
    try:
        publisher.tick()  # the last minute's invocations still count
    except Exception as error:  # noqa: BLE001 - the endpoint may be gone with its metrics' reader
        print(f"llmtwin-serve: last metrics not published: {error}", flush=True)
    server.shutdown()
    server_file.unlink(missing_ok=True)
    print(f"llmtwin-serve: stopped: {reason[0] if reason else 'done'}; {meter.total} invocations served", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
