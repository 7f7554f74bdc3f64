import { describe, expect, it } from '@jest/globals';
import { lookUpRegion } from '../../../src/aws/regions.js';

// Expected hosts are the AWS CLI's (aws eks get-token) and the STS endpoint documentation's, not the SDK table's.
describe('lookUpRegion', () => {
  it.each([
    ['us-east-1', 'aws', 'sts.us-east-1.amazonaws.com'],
    ['ap-southeast-7', 'aws', 'sts.ap-southeast-7.amazonaws.com'],
    ['cn-northwest-1', 'aws-cn', 'sts.cn-northwest-1.amazonaws.com.cn'],
    ['us-gov-east-1', 'aws-us-gov', 'sts.us-gov-east-1.amazonaws.com'],
    ['eusc-de-east-1', 'aws-eusc', 'sts.eusc-de-east-1.amazonaws.eu'],
  ])('finds %s in partition %s with STS host %s', (region, partition, stsHost) => {
    expect(lookUpRegion(region)).toEqual({ partition, stsHost });
  });

  it.each(['xx-foo-1', 'us-east-99', 'EU-WEST-1', 'us-east-1 ', '', 'aws-global', 'aws-cn-global'])(
    'does not know %j',
    (region) => {
      expect(lookUpRegion(region)).toBeUndefined();
    },
  );
});
