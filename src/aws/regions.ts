import { partition } from '@aws-sdk/core/client';

/** A region as the AWS SDK's partition table describes it. */
export interface RegionInfo {
  /** The partition: aws, aws-cn, aws-us-gov, aws-eusc, aws-iso, ... */
  readonly partition: string;
  /** The regional STS host the EKS token is presigned for: sts.<region>.<the partition's DNS suffix>. */
  readonly stsHost: string;
}

/** partition() scans the SDK's table with regular expressions; a function only ever asks for one region. */
const known = new Map<string, RegionInfo | undefined>();

/** Looks a region up in the partition table the AWS SDK ships (@aws-sdk/core, the table its endpoint resolvers
 * use); undefined when the table does not list it. The table's `*-global` entries are signing aliases, not regions
 * with regional endpoints, so they do not count. Pure, cached. */
export function lookUpRegion(region: string): RegionInfo | undefined {
  if (!known.has(region)) {
    const info = partition(region);
    // partition() answers every string, falling back to the aws partition; only regions the table lists carry a
    // description.
    const listed = 'description' in info && !region.endsWith('-global');
    known.set(region, listed ? { partition: info.name, stsHost: `sts.${region}.${info.dnsSuffix}` } : undefined);
  }
  return known.get(region);
}
