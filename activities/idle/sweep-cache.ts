import type { EndpointSummary } from '@aws-sdk/client-sagemaker';
import { SWEEP_READING_TRUSTED_INTERVALS, SWEEP_RESENDS_EVERY } from '../../common/idle/decision';
import { stableHash } from '../../common/shared/naming';
import type { SweepReads } from '../../common/idle/sweep';
import type { PricingConfig } from '../../common/shared/pricing';
import { mapWithConcurrency } from '../../common/shared/concurrency';
import type { SageMakerSender } from '../aws/clients';
import { EndpointConfigCache, loadEndpoint, readTagsIfExists, withTags, type LoadedEndpoint } from './endpoint-reads';

/**
 * How long the tags of an unchanged endpoint are trusted. Tagging does not move an endpoint's
 * LastModifiedTime, so llmtwin:managed added by hand to an existing endpoint is seen within this
 * long; llmtwin:keep is read at every sweep while it is set (so removing it counts at once), and
 * every deletion reads the tags again before it deletes anything (so adding it always counts).
 */
export const TAGS_TRUSTED_FOR_MS = 60 * 60_000;

interface CachedEndpoint {
  /** The listing's view when it was read: while ListEndpoints shows the same three, nothing else changed. */
  creationTime: number;
  lastModifiedTime: number;
  status: string;
  loaded: LoadedEndpoint;
  tagsReadAt: number;
}

export interface RefreshOptions {
  pricing: PricingConfig;
  /** The sweep's (workflow) time, which the tags' age is measured in. */
  now: number;
  concurrency: number;
  abortSignal?: AbortSignal;
  onProgress?: (done: number, of: number) => void;
}

/**
 * What a worker's sweeps have read about the account's endpoints, kept in the worker's memory from
 * one sweep to the next. ListEndpoints returns every endpoint's creation time, last-modified time
 * and status: an endpoint whose three are unchanged since the last sweep is not described again,
 * and its tags are not read again (until they are TAGS_TRUSTED_FOR_MS old). A new endpoint, a changed
 * one, or one recreated under the same name (a new creation time) is read in full; an endpoint the
 * listing no longer shows is forgotten. A new worker starts empty, so its first sweep reads everything.
 */
export class SweepReadCache {
  readonly configs = new EndpointConfigCache();
  readonly sentReadings = new SentReadings();
  /** When this worker last looked for orphaned configs and models (sweep time); undefined: never. */
  orphansScannedAt: number | undefined;
  private endpoints = new Map<string, CachedEndpoint>();

  /** The listed endpoints, loaded (from memory where nothing changed), in the listing's order. */
  async refresh(
    sagemaker: SageMakerSender,
    summaries: readonly EndpointSummary[],
    options: RefreshOptions,
  ): Promise<{ loaded: LoadedEndpoint[]; reads: Omit<SweepReads, 'sageMakerCalls'> }> {
    const reads = { listed: summaries.length, reused: 0, loaded: 0, tagsReread: 0, dropped: 0 };
    const next = new Map<string, CachedEndpoint>();
    const loaded = await mapWithConcurrency(summaries, options.concurrency, async (summary, index) => {
      options.onProgress?.(index, summaries.length);
      const name = summary.EndpointName;
      if (!name) return undefined;
      const listed = {
        creationTime: summary.CreationTime?.getTime() ?? 0,
        lastModifiedTime: summary.LastModifiedTime?.getTime() ?? 0,
        status: summary.EndpointStatus ?? 'Unknown',
      };
      const cached = this.endpoints.get(name);
      let entry: CachedEndpoint | undefined;
      if (!cached || !sameListing(cached, listed)) {
        const fresh = await loadEndpoint(sagemaker, name, { pricing: options.pricing, configs: this.configs }, options.abortSignal);
        if (fresh) entry = { ...listed, loaded: fresh, tagsReadAt: options.now };
        reads.loaded += 1;
      } else if (cached.loaded.snapshot.keep || options.now - cached.tagsReadAt >= TAGS_TRUSTED_FOR_MS) {
        const tags = await readTagsIfExists(sagemaker, cached.loaded.snapshot.endpointArn, name, options.abortSignal);
        if (tags) entry = { ...cached, loaded: withTags(cached.loaded, tags), tagsReadAt: options.now };
        reads.tagsReread += 1;
      } else {
        entry = cached;
        reads.reused += 1;
      }
      if (entry) next.set(name, entry);
      return entry?.loaded;
    });
    for (const name of this.endpoints.keys()) if (!next.has(name)) reads.dropped += 1;
    this.endpoints = next;
    this.sentReadings.keepOnly(next);
    return { loaded: loaded.filter((endpoint): endpoint is LoadedEndpoint => endpoint !== undefined), reads };
  }

  get size(): number {
    return this.endpoints.size;
  }
}

/** How long past its deadline an endpoint may still be listed before the sweep assumes its monitor waits for something it does not know of. */
const RESEND_AFTER_MISSED_DEADLINE_INTERVALS = 2;

interface SentReading {
  at: number;
  runId: string;
  fingerprint: string;
}

/**
 * What this worker's sweeps last sent each monitor (the `observe` signal). Every signal is a workflow
 * task for its monitor, and a monitor not in the worker's sticky cache replays its history for it: at a
 * thousand endpoints, signalling every monitor at every sweep was most of the worker's work. A monitor
 * trusts a reading for SWEEP_READING_TRUSTED_INTERVALS, so the sweep sends one when it says something
 * new (the endpoint, its tags or its last invocation changed), to a monitor run it has not sent to, and
 * otherwise again every SWEEP_RESENDS_EVERY sweeps, staggered by endpoint so each sweep re-sends a share.
 * No re-send goes to a monitor whose deadline comes while the reading it holds is still trusted: it
 * wakes at its deadline and confirms with a read of its own, so the re-send would only add a workflow
 * task, and a fleet going idle together would get them all while its deletions queue up.
 */
export class SentReadings {
  private readonly sent = new Map<string, SentReading>();

  /**
   * `deleteAt`: when the endpoint becomes deletable by this reading under the sweep's policy (undefined:
   * never, e.g. kept). A deadline more than RESEND_AFTER_MISSED_DEADLINE_INTERVALS past with the endpoint
   * still listed means the monitor knows more (a keepAlive, a pause, a policy of its own): re-sends go on.
   */
  isDue(endpointName: string, current: Omit<SentReading, 'at'>, now: number, intervalMs: number, deleteAt?: number): boolean {
    const previous = this.sent.get(endpointName);
    if (!previous || previous.runId !== current.runId || previous.fingerprint !== current.fingerprint) return true;
    const trustedUntil = previous.at + (SWEEP_READING_TRUSTED_INTERVALS - 1) * intervalMs;
    const actsOnItsOwn =
      deleteAt !== undefined && deleteAt <= trustedUntil && deleteAt >= now - RESEND_AFTER_MISSED_DEADLINE_INTERVALS * intervalMs;
    if (actsOnItsOwn) return false;
    const age = now - previous.at;
    if (age >= (SWEEP_RESENDS_EVERY + 0.5) * intervalMs) return true;
    const slot = Math.floor(now / intervalMs);
    return age >= (SWEEP_RESENDS_EVERY - 1.5) * intervalMs && (slot + stagger(endpointName)) % SWEEP_RESENDS_EVERY === 0;
  }

  record(endpointName: string, reading: SentReading): void {
    this.sent.set(endpointName, reading);
  }

  keepOnly(listed: ReadonlyMap<string, unknown>): void {
    for (const name of this.sent.keys()) if (!listed.has(name)) this.sent.delete(name);
  }
}

/** A small stable number from the name, so each endpoint's re-sends fall in its own share of the sweeps. */
function stagger(name: string): number {
  return Number.parseInt(stableHash(name).slice(-6), 36) % SWEEP_RESENDS_EVERY;
}

function sameListing(cached: CachedEndpoint, listed: Pick<CachedEndpoint, 'creationTime' | 'lastModifiedTime' | 'status'>): boolean {
  return (
    cached.creationTime === listed.creationTime && cached.lastModifiedTime === listed.lastModifiedTime && cached.status === listed.status
  );
}
