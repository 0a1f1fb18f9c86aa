import { nearestName } from './nearest';

/**
 * The SageMaker instance types llmtwin knows (training, processing and hosting share these names). An
 * instance type outside the list fails before any AWS call, naming the nearest known one, instead of
 * failing late in AWS (or, in moto, not at all). Types AWS adds later are accepted once listed in
 * `sagemaker.extraInstanceTypes` (LLMTWIN_EXTRA_INSTANCE_TYPES). Not every type exists in every region
 * or for every job kind; AWS still has the last word on that.
 */
const SIZES = {
  t: ['medium', 'large', 'xlarge', '2xlarge'],
  m5: ['large', 'xlarge', '2xlarge', '4xlarge', '12xlarge', '24xlarge'],
  m6: ['large', 'xlarge', '2xlarge', '4xlarge', '8xlarge', '12xlarge', '16xlarge', '24xlarge', '32xlarge'],
  m7: ['large', 'xlarge', '2xlarge', '4xlarge', '8xlarge', '12xlarge', '16xlarge', '24xlarge', '48xlarge'],
  c5: ['large', 'xlarge', '2xlarge', '4xlarge', '9xlarge', '18xlarge'],
  gpu: ['xlarge', '2xlarge', '4xlarge', '8xlarge', '12xlarge', '16xlarge', '24xlarge', '48xlarge'],
} as const;

const FAMILIES: ReadonlyArray<readonly [family: string, sizes: readonly string[]]> = [
  ['t2', SIZES.t],
  ['t3', SIZES.t],
  ['m4', ['xlarge', '2xlarge', '4xlarge', '10xlarge', '16xlarge']],
  ['m5', SIZES.m5],
  ['m5d', SIZES.m5],
  ['m6i', SIZES.m6],
  ['m7i', SIZES.m7],
  ['c4', ['xlarge', '2xlarge', '4xlarge', '8xlarge']],
  ['c5', SIZES.c5],
  ['c5n', ['xlarge', '2xlarge', '4xlarge', '9xlarge', '18xlarge']],
  ['c6i', SIZES.m6],
  ['c7i', SIZES.m7],
  ['r5', SIZES.m5],
  ['r5d', SIZES.m5],
  ['r6i', SIZES.m6],
  ['r7i', SIZES.m7],
  ['p2', ['xlarge', '8xlarge', '16xlarge']],
  ['p3', ['2xlarge', '8xlarge', '16xlarge']],
  ['p3dn', ['24xlarge']],
  ['p4d', ['24xlarge']],
  ['p4de', ['24xlarge']],
  ['p5', ['48xlarge']],
  ['p5e', ['48xlarge']],
  ['p5en', ['48xlarge']],
  ['g4dn', ['xlarge', '2xlarge', '4xlarge', '8xlarge', '12xlarge', '16xlarge']],
  ['g5', SIZES.gpu],
  ['g6', SIZES.gpu],
  ['g6e', SIZES.gpu],
  ['inf1', ['xlarge', '2xlarge', '6xlarge', '24xlarge']],
  ['inf2', ['xlarge', '8xlarge', '24xlarge', '48xlarge']],
  ['trn1', ['2xlarge', '32xlarge']],
  ['trn1n', ['32xlarge']],
  ['trn2', ['48xlarge']],
];

export const KNOWN_INSTANCE_TYPES: ReadonlySet<string> = new Set(
  FAMILIES.flatMap(([family, sizes]) => sizes.map((size) => `ml.${family}.${size}`)),
);

/** Undefined when the type is known (or listed as extra); otherwise what to tell the person, with the nearest known type. */
export function unknownInstanceTypeProblem(instanceType: string, extra: readonly string[] = []): string | undefined {
  if (KNOWN_INSTANCE_TYPES.has(instanceType) || extra.includes(instanceType)) return undefined;
  const [, family = '', size = ''] = /^ml\.([^.]+)\.(.+)$/.exec(instanceType) ?? [];
  const sizes = new Map(FAMILIES);
  const known = sizes.get(family);
  let suggestion: string;
  if (known) {
    // A known family in a size it does not come in: say which sizes it has.
    const nearest = nearestName(size, known);
    suggestion = `${nearest ? `did you mean ml.${family}.${nearest}? ` : ''}ml.${family} comes in ${known.join(', ')}`;
  } else {
    // The nearest family that comes in this size (ml.p4.24xlarge -> ml.p4d.24xlarge, not ml.p2).
    const inThisSize = [...sizes.keys()].filter((name) => (sizes.get(name) ?? []).includes(size));
    const nearestFamily = nearestName(family, inThisSize);
    const guess = nearestFamily ? `ml.${nearestFamily}.${size}` : undefined;
    suggestion = guess ? `did you mean ${guess}?` : `known families: ${[...sizes.keys()].join(', ')}`;
  }
  return `${instanceType} is not a SageMaker instance type llmtwin knows (${suggestion}); a type AWS added since goes in sagemaker.extraInstanceTypes or LLMTWIN_EXTRA_INSTANCE_TYPES`;
}
