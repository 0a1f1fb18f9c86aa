/**
 * What SageMaker instances cost, to turn uptime and billable seconds into money. Approximate
 * us-east-1 on-demand list prices in USD per instance-hour (SageMaker's training and real-time hosting
 * rates for these types); other regions and negotiated rates differ, so config can override any entry
 * (`pricing.usdPerHour`). An unknown type prices as `undefined`, never as zero: we do not invent costs.
 */
export const DEFAULT_USD_PER_HOUR: Readonly<Record<string, number>> = {
  'ml.t2.medium': 0.056,
  'ml.m5.large': 0.115,
  'ml.m5.xlarge': 0.23,
  'ml.c5.xlarge': 0.204,
  'ml.g4dn.xlarge': 0.736,
  'ml.g4dn.2xlarge': 0.94,
  'ml.g5.xlarge': 1.408,
  'ml.g5.2xlarge': 1.515,
  'ml.g5.4xlarge': 2.03,
  'ml.g5.12xlarge': 7.09,
  'ml.g5.48xlarge': 20.36,
  'ml.g6.xlarge': 1.01,
  'ml.g6.2xlarge': 1.222,
  'ml.g6e.xlarge': 2.336,
  'ml.p3.2xlarge': 3.825,
  'ml.p4d.24xlarge': 37.688,
};

/** `pricing` in config: overrides and additions to DEFAULT_USD_PER_HOUR, e.g. {"ml.g5.xlarge": 1.2}. */
export interface PricingConfig {
  usdPerHour: Readonly<Record<string, number>>;
}

export function usdPerHour(instanceType: string, pricing?: PricingConfig): number | undefined {
  return pricing?.usdPerHour[instanceType] ?? DEFAULT_USD_PER_HOUR[instanceType];
}

/** Cost of `instanceCount` instances running for `seconds`; undefined when the type has no price. */
export function costUsd(instanceType: string, seconds: number, instanceCount = 1, pricing?: PricingConfig): number | undefined {
  const hourly = usdPerHour(instanceType, pricing);
  return hourly === undefined ? undefined : roundCents((hourly * instanceCount * seconds) / 3600);
}

export function roundCents(usd: number): number {
  return Math.round(usd * 100) / 100;
}
