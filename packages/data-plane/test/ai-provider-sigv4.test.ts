import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { type AwsSigningRequest, amzDate, signAwsRequest } from '../src/plugins/ai-proxy-multi/auth/aws-sigv4.js';

/**
 * AWS SigV4 (ai-proxy-multi.md §4.9) against AWS's published examples. Inputs and expected values are
 * written here from AWS's documentation:
 *   - the "Signature Version 4 Test Suite" of the AWS General Reference (aws-sig-v4-test-suite):
 *     get-vanilla, get-vanilla-query-order-key-case, post-vanilla, post-x-www-form-urlencoded,
 *     post-sts-token/post-sts-header-before — all with credentials AKIDEXAMPLE, region us-east-1,
 *     service `service`, date 20150830T123600Z;
 *   - the documented IAM example request (`GET https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08`,
 *     "Create a signed AWS API request"), whose canonical request, string to sign and signature the
 *     documentation prints step by step.
 */

const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const SUITE_TIME = Date.UTC(2015, 7, 30, 12, 36, 0);
const SUITE_SCOPE = { credentials: CREDENTIALS, region: 'us-east-1', service: 'service', nowMs: SUITE_TIME };
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
/** The suite's example session token (post-sts-token). */
const SUITE_SESSION_TOKEN =
  'AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==';

function suiteRequest(fields: Partial<AwsSigningRequest>): AwsSigningRequest {
  return { method: 'GET', host: 'example.amazonaws.com', pathAndQuery: '/', headers: {}, body: '', ...fields };
}

describe('SigV4 against the AWS Signature Version 4 test suite', () => {
  const table: {
    name: string;
    request: AwsSigningRequest;
    sessionToken?: string;
    signedHeaders: string;
    signature: string;
  }[] = [
    {
      name: 'get-vanilla',
      request: suiteRequest({}),
      signedHeaders: 'host;x-amz-date',
      signature: '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
    },
    {
      name: 'get-vanilla-query-order-key-case (query sorted by name)',
      request: suiteRequest({ pathAndQuery: '/?Param2=value2&Param1=value1' }),
      signedHeaders: 'host;x-amz-date',
      signature: 'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500',
    },
    {
      name: 'post-vanilla',
      request: suiteRequest({ method: 'POST' }),
      signedHeaders: 'host;x-amz-date',
      signature: '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b',
    },
    {
      name: 'post-x-www-form-urlencoded (body hashed, content-type signed)',
      request: suiteRequest({
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'Param1=value1',
      }),
      signedHeaders: 'content-type;host;x-amz-date',
      signature: 'ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a',
    },
    {
      name: 'post-sts-token/post-sts-header-before (session token signed)',
      request: suiteRequest({ method: 'POST' }),
      sessionToken: SUITE_SESSION_TOKEN,
      signedHeaders: 'host;x-amz-date;x-amz-security-token',
      signature: '85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead',
    },
  ];

  for (const { name, request, sessionToken, signedHeaders, signature } of table) {
    it(name, () => {
      const signed = signAwsRequest(request, {
        ...SUITE_SCOPE,
        credentials: { ...CREDENTIALS, sessionToken },
      });
      assert.equal(signed.signature, signature);
      assert.equal(
        signed.headers.authorization,
        `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=${signedHeaders}, Signature=${signature}`,
      );
      assert.equal(signed.headers['x-amz-date'], '20150830T123600Z');
      assert.equal(signed.headers['x-amz-security-token'], sessionToken);
    });
  }
});

describe('SigV4 against the documented IAM ListUsers example', () => {
  const signed = signAwsRequest(
    {
      method: 'GET',
      host: 'iam.amazonaws.com',
      pathAndQuery: '/?Action=ListUsers&Version=2010-05-08',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body: '',
    },
    { credentials: CREDENTIALS, region: 'us-east-1', service: 'iam', nowMs: SUITE_TIME },
  );

  it('builds the documented canonical request', () => {
    assert.equal(
      signed.canonicalRequest,
      [
        'GET',
        '/',
        'Action=ListUsers&Version=2010-05-08',
        'content-type:application/x-www-form-urlencoded; charset=utf-8',
        'host:iam.amazonaws.com',
        'x-amz-date:20150830T123600Z',
        '',
        'content-type;host;x-amz-date',
        EMPTY_SHA256,
      ].join('\n'),
    );
    assert.equal(
      createHash('sha256').update(signed.canonicalRequest).digest('hex'),
      'f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59',
    );
  });

  it('builds the documented string to sign and signature', () => {
    assert.equal(
      signed.stringToSign,
      [
        'AWS4-HMAC-SHA256',
        '20150830T123600Z',
        '20150830/us-east-1/iam/aws4_request',
        'f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59',
      ].join('\n'),
    );
    assert.equal(
      signed.headers.authorization,
      'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7',
    );
  });
});

describe('SigV4 paths, queries and headers (§4.9)', () => {
  const sign = (fields: Partial<AwsSigningRequest>) =>
    signAwsRequest(suiteRequest({ method: 'POST', host: 'bedrock-runtime.us-east-1.amazonaws.com', ...fields }), {
      ...SUITE_SCOPE,
      service: 'bedrock',
    });

  it('sends a model id single-encoded and signs it double-encoded', () => {
    const signed = sign({ pathAndQuery: '/model/anthropic.claude-3-sonnet-20240229-v1%3A0/converse' });
    assert.equal(signed.pathAndQuery, '/model/anthropic.claude-3-sonnet-20240229-v1%3A0/converse');
    assert.equal(signed.canonicalRequest.split('\n')[1], '/model/anthropic.claude-3-sonnet-20240229-v1%253A0/converse');
  });

  it('normalises a raw reserved character in a user path to one encoding on the wire', () => {
    const signed = sign({ pathAndQuery: '/model/arn:aws:bedrock:us-east-1:1:inference-profile%2Fx/converse' });
    assert.equal(signed.pathAndQuery, '/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A1%3Ainference-profile%2Fx/converse');
    assert.equal(
      signed.canonicalRequest.split('\n')[1],
      '/model/arn%253Aaws%253Abedrock%253Aus-east-1%253A1%253Ainference-profile%252Fx/converse',
    );
  });

  it('re-encodes the query RFC 3986 style on the wire, sorted in the canonical form', () => {
    const signed = sign({ pathAndQuery: '/x?b=two+words&a=%7E1' });
    assert.equal(signed.pathAndQuery, '/x?b=two%20words&a=~1');
    assert.equal(signed.canonicalRequest.split('\n')[2], 'a=~1&b=two%20words');
  });

  it('signs host, content-type and x-amz-* headers only, with values trimmed', () => {
    const signed = sign({
      headers: {
        'content-type': ' application/json ',
        'user-agent': 'sdk',
        'x-amz-target': 'a   b',
        authorization: 'Bearer client',
      },
      body: '{"messages":[]}',
    });
    assert.match(signed.headers.authorization ?? '', /SignedHeaders=content-type;host;x-amz-date;x-amz-target,/);
    assert.match(signed.canonicalRequest, /\ncontent-type:application\/json\n/);
    assert.match(signed.canonicalRequest, /\nx-amz-target:a b\n/);
    assert.equal(
      signed.canonicalRequest.split('\n').at(-1),
      createHash('sha256').update('{"messages":[]}').digest('hex'),
    );
  });

  it('formats the date as AWS does', () => {
    assert.equal(amzDate(Date.UTC(2024, 0, 2, 3, 4, 5, 678)), '20240102T030405Z');
  });
});
