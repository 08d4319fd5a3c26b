import { uploadBody, type UploadResult } from '@ussd/platform-testing';
import { post, startUssdApp, type UssdTestApp } from './ussd-app.test-helpers.js';

const LIMIT = 1024 * 1024;
const FIVE_MB = 5 * 1000 * 1000;
const TOKEN = `at-${'7'.repeat(29)}`;

async function tries(count: number, attempt: () => Promise<UploadResult>): Promise<UploadResult[]> {
  const results: UploadResult[] = [];
  for (let i = 0; i < count; i += 1) results.push(await attempt());
  return results;
}

function outcomes(results: readonly UploadResult[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const result of results) {
    const key = result.clientError ?? String(result.status);
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

const FORM = 'application/x-www-form-urlencoded';

describe("USSD gateway routes: a body over HTTP_BODY_LIMIT_BYTES gets its 413 in the gateway's format", () => {
  let app: UssdTestApp;

  beforeAll(async () => {
    app = await startUssdApp({ HTTP_BODY_LIMIT_BYTES: String(LIMIT), USSD_GATEWAY_AFRICASTALKING_TOKEN: TOKEN });
  });

  afterAll(async () => {
    await app?.close();
  });

  const africasTalking = (result: UploadResult): void => {
    expect(result.headers['content-type']).toMatch(/^text\/plain/);
    expect(result.body).toMatch(/^END /);
  };
  const hubtel = (result: UploadResult): void => {
    expect(result.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(result.body)).toMatchObject({ Type: 'release', DataType: 'display' });
  };

  it.each([
    ['/ussd/africastalking', '/ussd/africastalking', FORM, africasTalking],
    ['/ussd/africastalking/{token}', `/ussd/africastalking/${TOKEN}`, FORM, africasTalking],
    ['/ussd/hubtel', '/ussd/hubtel', 'application/json', hubtel],
  ] as const)('%s: a 5 MB body with Content-Length, 20 of 20 tries, no reset', async (_route, path, contentType, format) => {
    const results = await tries(20, () => uploadBody(`${app.url}${path}`, { bytes: FIVE_MB, headers: { 'content-type': contentType } }));
    expect(outcomes(results)).toEqual({ '413': 20 });
    for (const result of results) format(result);
  });

  it.each([
    ['/ussd/africastalking', FORM, africasTalking],
    ['/ussd/hubtel', 'application/json', hubtel],
  ] as const)('%s: a 5 MB chunked body, 20 of 20 tries, no reset', async (path, contentType, format) => {
    const results = await tries(20, () => uploadBody(`${app.url}${path}`, { bytes: FIVE_MB, chunked: true, headers: { 'content-type': contentType } }));
    expect(outcomes(results)).toEqual({ '413': 20 });
    for (const result of results) format(result);
  });

  it("a body Fastify cannot parse or does not take gets its 400/415 in the gateway's format too", async () => {
    const malformed = await post(app.url, '/ussd/hubtel', 'application/json', '{"Type":', {});
    expect([malformed.status, malformed.contentType]).toEqual([400, expect.stringMatching(/^application\/json/)]);
    expect(JSON.parse(malformed.body)).toMatchObject({ Type: 'release' });
    const xml = await post(app.url, '/ussd/africastalking', 'application/xml', '<a/>', { 'x-gateway-token': TOKEN });
    expect([xml.status, xml.body]).toEqual([415, expect.stringMatching(/^END /)]);
  });

  it('an unknown gateway name has no format of its own: its 413 is a problem document', async () => {
    const result = await uploadBody(`${app.url}/ussd/nosuchgateway`, { bytes: FIVE_MB, headers: { 'content-type': FORM } });
    expect([result.status, result.clientError]).toEqual([413, undefined]);
    expect(result.headers['content-type']).toContain('application/problem+json');
  });

  it('a body just under the limit still reaches the gateway adapter (refused as malformed, 400 END, not 413)', async () => {
    const body = `sessionId=${'s'.repeat(LIMIT - 200)}`;
    const reply = await post(app.url, '/ussd/africastalking', FORM, body, { 'x-gateway-token': TOKEN });
    expect(reply.status).toBe(400);
    expect(reply.body).toMatch(/^END /);
  });

  it('the JSON API next to it still answers 413 as problem+json', async () => {
    const result = await uploadBody(`${app.url}/workflows`, { bytes: FIVE_MB, headers: { ...app.auth } });
    expect([result.status, result.clientError]).toEqual([413, undefined]);
    expect(result.headers['content-type']).toContain('application/problem+json');
  });
});
