"""A graceful stop. SageMaker's StopTrainingJob (and the local runner's stop) sends SIGTERM, then SIGKILL
120 s later: on SIGTERM the run saves a checkpoint at the end of the current step and ends, so a stopped
job keeps its progress in the checkpoint directory instead of losing everything since the last save."""

from __future__ import annotations

import logging
import signal

from transformers import TrainerCallback

log = logging.getLogger("llmtwin.train")


class StopOnSigterm(TrainerCallback):
    def __init__(self) -> None:
        self.requested = False
        self._previous = signal.signal(signal.SIGTERM, self._request)

    def _request(self, signum, frame) -> None:  # noqa: ARG002 - signal handler signature
        # Only a flag: the Trainer acts on it between steps, where a checkpoint is consistent.
        self.requested = True
        log.info("SIGTERM: saving a checkpoint at the end of this step, then stopping")

    def on_step_end(self, args, state, control, **kwargs):
        if self.requested:
            control.should_save = True
            control.should_training_stop = True
        return control

    def restore(self) -> None:
        signal.signal(signal.SIGTERM, self._previous)
