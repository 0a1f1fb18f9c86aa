/** The idle stage: one monitor per endpoint, and the scheduled fleet sweep that keeps them running. */
export { idleMonitor } from './idle-monitor';
export { idleSweep } from './idle-sweep';
