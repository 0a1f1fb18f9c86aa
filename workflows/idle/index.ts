/** The idle stage: one monitor per endpoint, and the scheduled fleet sweep that keeps them running. */
export { idleMonitor } from './monitor';
export { idleSweep } from './sweep';
