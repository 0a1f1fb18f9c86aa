import type { EndpointSummary } from '@aws-sdk/client-sagemaker';
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
    return { loaded: loaded.filter((endpoint): endpoint is LoadedEndpoint => endpoint !== undefined), reads };
  }

  get size(): number {
    return this.endpoints.size;
  }
}

function sameListing(cached: CachedEndpoint, listed: Pick<CachedEndpoint, 'creationTime' | 'lastModifiedTime' | 'status'>): boolean {
  return (
    cached.creationTime === listed.creationTime && cached.lastModifiedTime === listed.lastModifiedTime && cached.status === listed.status
  );
}
