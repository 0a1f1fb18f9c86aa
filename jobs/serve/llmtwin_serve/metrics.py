"""What SageMaker does around a real endpoint, done by the local server itself: publish `Invocations`
and `ModelLatency` to CloudWatch every minute (namespace AWS/SageMaker, dimensions EndpointName and
VariantName, no datapoint for an idle minute), so the idle monitor reads a local endpoint as it reads a
real one; and notice the endpoint is gone (deleted, or moved to another config) and stop serving."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

LOG = logging.getLogger("llmtwin.serve")


@dataclass
class Meter:
    """Invocations and their latencies since the last publish, counted from the request threads."""

    _lock: threading.Lock = field(default_factory=threading.Lock)
    _latencies_us: list[float] = field(default_factory=list)
    total: int = 0

    def record(self, latency_seconds: float) -> None:
        with self._lock:
            self._latencies_us.append(latency_seconds * 1_000_000)
            self.total += 1

    def drain(self) -> list[float]:
        with self._lock:
            taken, self._latencies_us = self._latencies_us, []
        return taken


def metric_data(endpoint: str, variant: str, latencies_us: list[float], now: float) -> list[dict[str, Any]]:
    """PutMetricData's MetricData for one interval: nothing when nothing was invoked (as SageMaker does)."""
    if not latencies_us:
        return []
    dimensions = [{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": variant}]
    stamp = time.gmtime(now)
    timestamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", stamp)
    return [
        {"MetricName": "Invocations", "Dimensions": dimensions, "Timestamp": timestamp, "Value": float(len(latencies_us)), "Unit": "None"},
        {
            "MetricName": "ModelLatency",
            "Dimensions": dimensions,
            "Timestamp": timestamp,
            "StatisticValues": {
                "SampleCount": float(len(latencies_us)),
                "Sum": float(sum(latencies_us)),
                "Minimum": float(min(latencies_us)),
                "Maximum": float(max(latencies_us)),
            },
            "Unit": "Microseconds",
        },
    ]


@dataclass
class EndpointWatch:
    """Whether this server still serves its endpoint: once it has seen the endpoint on its config, the
    endpoint missing or on another config means stop; never seeing it within the adopt timeout (a
    deployment that failed before it recorded the endpoint) means stop too."""

    endpoint: str
    config: str
    adopt_timeout_seconds: float
    started: float = field(default_factory=time.time)
    seen_current: bool = False

    def verdict(self, described: dict[str, Any] | None, now: float) -> str | None:
        if described is not None and described.get("EndpointConfigName") == self.config:
            self.seen_current = True
            return None
        if self.seen_current:
            if described is None:
                return f"endpoint {self.endpoint} was deleted"
            return f"endpoint {self.endpoint} now serves config {described.get('EndpointConfigName')}"
        if now - self.started > self.adopt_timeout_seconds:
            return f"endpoint {self.endpoint} never served config {self.config} within {int(self.adopt_timeout_seconds)} s"
        return None


def describe_or_none(sagemaker: Any, endpoint: str) -> dict[str, Any] | None:
    try:
        return sagemaker.describe_endpoint(EndpointName=endpoint)
    except Exception as error:  # botocore's ClientError, without importing botocore here
        code = getattr(error, "response", {}).get("Error", {}).get("Code", "")
        if code == "ValidationException" and "could not find" in str(error).lower():
            return None
        raise


class Publisher:
    """Every interval: publish the metrics, then look at the endpoint; `on_gone(reason)` when it is not ours any more."""

    def __init__(self, meter: Meter, watch: EndpointWatch, variant: str, interval_seconds: float, clients: Callable[[], tuple[Any, Any]], on_gone: Callable[[str], None]) -> None:
        self.meter, self.watch, self.variant, self.interval = meter, watch, variant, interval_seconds
        self._clients, self._on_gone = clients, on_gone
        self._stop = threading.Event()
        self.published = 0

    def tick(self, now: float | None = None) -> str | None:
        cloudwatch, sagemaker = self._clients()
        now = time.time() if now is None else now
        data = metric_data(self.watch.endpoint, self.variant, self.meter.drain(), now)
        if data:
            cloudwatch.put_metric_data(Namespace="AWS/SageMaker", MetricData=data)
            self.published += 1
        described = describe_or_none(sagemaker, self.watch.endpoint)
        if not self.watch.seen_current:
            # Until it has seen its endpoint on its config, say what it sees: a server that never does stops only at the adopt timeout.
            LOG.info("llmtwin-serve: endpoint %s %s", self.watch.endpoint, "not found" if described is None else f"on config {described.get('EndpointConfigName')} ({described.get('EndpointStatus')})")
        return self.watch.verdict(described, now)

    def run(self) -> None:
        # The first look comes at once, not an interval in: the endpoint exists before its server starts,
        # so the server sees it and knows its deletion for what it is, even a deletion within the first
        # interval (an idle monitor with no grace, or a half-made deployment taken down), which would
        # otherwise leave it waiting for its endpoint until the adopt timeout.
        first = True
        while first or not self._stop.wait(self.interval):
            first = False
            try:
                reason = self.tick()
            except Exception as error:  # AWS unreachable for a while: keep serving, try again next interval
                LOG.warning("llmtwin-serve: metrics or endpoint check failed (will retry): %s", error)
                continue
            if reason:
                self._on_gone(reason)
                return

    def stop(self) -> None:
        self._stop.set()
