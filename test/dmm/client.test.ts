import { afterEach, describe, expect, it } from 'vitest';
import { DmmHttpClient, type DmmHttpClientOptions } from '../../src/dmm/client.js';
import { DmmApiError, DmmResponseFormatError } from '../../src/dmm/errors.js';
import { json, problem, startScriptedServer, type Handler, type ScriptedServer } from './scripted-server.js';
import { isOutage } from '../../src/interfaces/outage.js';

/**
 * Client behaviour that needs exact control over the server's answers (pagination edge cases,
 * probing, provisioning fallbacks). The same client runs against the simulator in
 * client-simulator.test.ts.
 */

let server: ScriptedServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function setup(handler: Handler, options: Partial<DmmHttpClientOptions> = {}) {
  server = await startScriptedServer(handler);
  const client = new DmmHttpClient({
    baseUrl: server.url,
    apiKey: 'test-api-key-0123456789',
    maxAttempts: 2,
    sleep: async () => {},
    ...options,
  });
  return { client, requests: server.requests, url: server.url };
}

function agreement(id: string, provider = 'orders', consumer = 'campaigns'): Record<string, unknown> {
  return {
    id,
    info: { purpose: 'p', status: 'approved', active: true },
    provider: { dataProductId: provider, outputPortId: 'port' },
    consumer: { dataProductId: consumer },
  };
}

const paths = (requests: ScriptedServer['requests']) => requests.map((r) => `${r.method} ${r.url}`);

describe('API generation', () => {
  it('detects the older generation once, from a 404 on /api/access, and caches it', async () => {
    const { client, requests } = await setup((req, res) => {
      if (req.url.startsWith('/api/access')) return problem(res, 404, 'Not Found');
      if (req.url === '/api/datausageagreements/d1') return json(res, 200, agreement('d1'));
      return json(res, 200, [agreement('d1')]);
    });
    expect(await client.apiGeneration()).toBe('datausageagreements');
    expect((await client.getAgreement('d1'))?.id).toBe('d1');
    expect((await client.listAgreements()).map((a) => a.id)).toEqual(['d1']);
    expect(paths(requests)).toEqual([
      'GET /api/access?p=0&pageSize=2',
      'GET /api/datausageagreements/d1',
      'GET /api/datausageagreements',
    ]);
  });

  it('detects the current generation when /api/access answers', async () => {
    const { client, requests } = await setup((_req, res) => json(res, 200, []));
    await client.listAgreements();
    await client.listAgreements();
    expect(paths(requests)).toEqual([
      'GET /api/access?p=0&pageSize=2',
      'GET /api/access?p=0&pageSize=1000',
      'GET /api/access?p=0&pageSize=1000',
    ]);
  });

  it('does not cache a failed probe', async () => {
    let rejectKey = true;
    const { client } = await setup((_req, res) => (rejectKey ? problem(res, 403, 'Forbidden') : json(res, 200, [])));
    await expect(client.apiGeneration()).rejects.toMatchObject({ status: 403 });
    rejectKey = false;
    expect(await client.apiGeneration()).toBe('access');
  });

  it('skips the probe when the generation is configured', async () => {
    const { client, requests } = await setup((_req, res) => json(res, 200, agreement('a1')), {
      apiGeneration: 'access',
    });
    await client.getAgreement('a1');
    expect(paths(requests)).toEqual(['GET /api/access/a1']);
  });
});

describe('events', () => {
  it('asks for a CloudEvents batch after the checkpoint', async () => {
    const { client, requests } = await setup((_req, res) =>
      json(res, 200, [{ id: 'e2', type: 'x.AccessActivatedEvent', data: { id: 'a1' } }]),
    );
    const events = await client.pollEvents('e1');
    expect(events).toEqual([{ id: 'e2', type: 'x.AccessActivatedEvent', data: { id: 'a1' } }]);
    expect(requests[0]?.url).toBe('/api/events?lastEventId=e1');
    expect(requests[0]?.headers['accept']).toBe('application/cloudevents-batch+json');
  });

  it('starts from the beginning without a checkpoint', async () => {
    const { client, requests } = await setup((_req, res) => json(res, 200, []));
    expect(await client.pollEvents()).toEqual([]);
    expect(requests[0]?.url).toBe('/api/events');
  });

  it('marks an invalid event unreadable, naming it, and reads the rest of the batch', async () => {
    const { client } = await setup((_req, res) =>
      json(res, 200, [
        { id: 'e1', type: 't' },
        { id: 'e2', type: '' },
        { id: 'e3', type: 't' },
      ]),
    );
    expect(await client.pollEvents()).toEqual([
      { id: 'e1', type: 't' },
      { id: 'e2', type: 'unreadable', unreadable: expect.stringMatching(/^Event "e2" \(#1\) in feed batch: type: /) },
      { id: 'e3', type: 't' },
    ]);
  });

  it('rejects a batch that is not an array', async () => {
    const { client } = await setup((_req, res) => json(res, 200, { events: [] }));
    await expect(client.pollEvents()).rejects.toThrow(DmmResponseFormatError);
  });

  it('treats a missing events endpoint as an error, not as "caught up"', async () => {
    const { client } = await setup((_req, res) => problem(res, 404, 'Not Found'));
    await expect(client.pollEvents()).rejects.toMatchObject({ status: 404 });
  });
});

describe('agreement lists', () => {
  it('follows relative and absolute Link headers and sends the filters', async () => {
    const { client, requests, url } = await setup(
      (req, res) => {
        const page = new URL(req.url, 'http://x').searchParams.get('p');
        if (page === '0')
          return json(res, 200, [agreement('a1')], { link: '</api/access?p=1&pageSize=1000>; rel="next"' });
        if (page === '1') return json(res, 200, [agreement('a2')], { link: `<${url}/api/access?p=2>; rel="next"` });
        return json(res, 200, [agreement('a3')], { link: '</api/access?p=1>; rel="prev"' });
      },
      { apiGeneration: 'access' },
    );
    const list = await client.listAgreements({ providerDataProductId: 'orders' });
    expect(list.map((a) => a.id)).toEqual(['a1', 'a2', 'a3']);
    expect(paths(requests)).toEqual([
      'GET /api/access?p=0&pageSize=1000&providerDataProductId=orders',
      'GET /api/access?p=1&pageSize=1000',
      'GET /api/access?p=2',
    ]);
  });

  it('filters again on the client when the server ignores the filter', async () => {
    const { client } = await setup(
      (_req, res) =>
        json(res, 200, [
          agreement('a1', 'orders', 'c1'),
          agreement('a2', 'other', 'c1'),
          agreement('a3', 'orders', 'c2'),
        ]),
      {
        apiGeneration: 'access',
      },
    );
    expect(
      (await client.listAgreements({ providerDataProductId: 'orders', consumerDataProductId: 'c1' })).map((a) => a.id),
    ).toEqual(['a1']);
  });

  it('fails on a pagination loop instead of returning a truncated list', async () => {
    const { client, requests } = await setup(
      (req, res) => json(res, 200, [agreement(req.url)], { link: '</api/access?p=0&pageSize=1000>; rel="next"' }),
      { apiGeneration: 'access' },
    );
    await expect(client.listAgreements()).rejects.toThrow(/pagination loops/);
    expect(requests).toHaveLength(1);
  });

  it('puts a next link on another origin (a proxy’s host, http://) back on the base URL; that origin never sees the key', async () => {
    const elsewhere = await startScriptedServer((_req, res) => json(res, 200, [agreement('stolen')]));
    try {
      const { client, requests } = await setup(
        (req, res) => {
          if (req.url.includes('p=0'))
            return json(res, 200, [agreement('a1')], {
              link: `<${elsewhere.url}/api/access?p=1&pageSize=1000>; rel="next"`,
            });
          if (req.url.includes('p=1'))
            return json(res, 200, [agreement('a2')], {
              link: '<http://proxy.internal:8080/api/access?p=2&pageSize=1000>; rel="next"',
            });
          return json(res, 200, [agreement('a3')]);
        },
        { apiGeneration: 'access' },
      );
      expect((await client.listAgreements()).map((a) => a.id)).toEqual(['a1', 'a2', 'a3']);
      expect(paths(requests)).toEqual([
        'GET /api/access?p=0&pageSize=1000',
        'GET /api/access?p=1&pageSize=1000',
        'GET /api/access?p=2&pageSize=1000',
      ]);
      expect(elsewhere.requests).toEqual([]);
    } finally {
      await elsewhere.close();
    }
  });

  it('keeps the base URL’s path prefix when a foreign next link lacks it', async () => {
    const { url, requests } = await setup((req, res) => {
      if (req.url.includes('p=1')) return json(res, 200, [agreement('a2')]);
      return json(res, 200, [agreement('a1')], { link: '<https://other.example/api/access?p=1>; rel="next"' });
    });
    const behindPrefix = new DmmHttpClient({ baseUrl: `${url}/dmm`, apiKey: 'k', apiGeneration: 'access' });
    expect((await behindPrefix.listAgreements()).map((a) => a.id)).toEqual(['a1', 'a2']);
    expect(paths(requests)).toEqual(['GET /dmm/api/access?p=0&pageSize=1000', 'GET /dmm/api/access?p=1']);
  });

  it('hands an unreadable agreement to onUnreadable and returns the others, one without info.active among them', async () => {
    const withoutActive = { ...agreement('a2'), info: { purpose: 'p', status: 'approved', startDate: '2020-01-01' } };
    const { client } = await setup(
      (_req, res) => json(res, 200, [agreement('a1'), { id: 'bad', info: {}, provider: {} }, withoutActive]),
      { apiGeneration: 'access' },
    );
    const unreadable: string[] = [];
    const listed = await client.listAgreements({}, (error) => unreadable.push(`${error.agreementId} ${error.field}`));
    expect(listed.map((a) => [a.id, a.active])).toEqual([
      ['a1', true],
      ['a2', true],
    ]);
    expect(unreadable).toEqual(['bad provider.dataProductId']);
  });

  it('fails on an invalid agreement in the list, naming it', async () => {
    const { client } = await setup(
      (_req, res) => json(res, 200, [agreement('a1'), { id: 'bad', info: { active: true }, provider: {} }]),
      {
        apiGeneration: 'access',
      },
    );
    await expect(client.listAgreements()).rejects.toThrow(/Agreement "bad": provider\.dataProductId/);
  });
});

describe('single agreements', () => {
  it('returns undefined for a deleted agreement and encodes the id', async () => {
    const { client, requests } = await setup((_req, res) => problem(res, 404, 'Not Found'), {
      apiGeneration: 'access',
    });
    expect(await client.getAgreement('a/b?c')).toBeUndefined();
    expect(requests[0]?.url).toBe('/api/access/a%2Fb%3Fc');
  });

  it('PUTs the whole document', async () => {
    const { client, requests } = await setup((_req, res) => res.writeHead(200).end(), {
      apiGeneration: 'datausageagreements',
    });
    const document = { ...agreement('d1'), tags: ['aws-integration'], extra: { kept: true } };
    await client.putAgreement('d1', document);
    expect(requests[0]?.method).toBe('PUT');
    expect(requests[0]?.url).toBe('/api/datausageagreements/d1');
    expect(JSON.parse(requests[0]?.body ?? '')).toEqual(document);
  });

  it('reports a rejected PUT with the server’s explanation', async () => {
    const { client } = await setup(
      (_req, res) => problem(res, 422, 'Unprocessable Entity', 'provider.outputPortId is required'),
      {
        apiGeneration: 'access',
      },
    );
    await expect(client.putAgreement('a1', {})).rejects.toThrow(
      'PUT /api/access/a1 failed: 422 Unprocessable Entity – provider.outputPortId is required',
    );
  });

  it('refuses an empty id rather than reading the list endpoint', async () => {
    const { client, requests } = await setup((_req, res) => json(res, 200, []), { apiGeneration: 'access' });
    await expect(client.getAgreement('')).rejects.toThrow(/empty id/);
    expect(requests).toHaveLength(0);
  });
});

describe('data products', () => {
  const dps = (id: string) => ({
    dataProductSpecification: '0.0.1',
    id,
    info: { title: id, owner: 'orders-team' },
    outputPorts: [{ id: 'port', name: 'Port', type: 's3', custom: { 'output-port-type': 's3_bucket' } }],
  });

  it('reads one data product and returns undefined for an unknown one', async () => {
    const { client } = await setup((req, res) =>
      req.url === '/api/dataproducts/orders' ? json(res, 200, dps('orders')) : problem(res, 404, 'Not Found'),
    );
    const product = await client.getDataProduct('orders');
    expect(product).toMatchObject({ id: 'orders', format: 'dps-0.0.1', ownerTeamId: 'orders-team' });
    expect(product?.outputPorts[0]?.custom).toEqual({ 'output-port-type': 's3_bucket' });
    expect(await client.getDataProduct('nope')).toBeUndefined();
  });

  it('lists across pages and fetches each product in full, skipping one deleted meanwhile', async () => {
    const { client, requests } = await setup((req, res) => {
      if (req.url === '/api/dataproducts?p=0')
        return json(res, 200, [{ id: 'a' }, { id: 'b' }], { link: '</api/dataproducts?p=1>; rel="next"' });
      if (req.url === '/api/dataproducts?p=1') return json(res, 200, [{ id: 'c' }]);
      if (req.url === '/api/dataproducts/b') return problem(res, 404, 'Not Found');
      return json(res, 200, dps(req.url.split('/').pop() ?? ''));
    });
    const products = await client.listDataProducts();
    expect(products.map((p) => p.id)).toEqual(['a', 'c']);
    expect(products[0]?.outputPorts).toHaveLength(1);
    expect(requests.filter((r) => /^\/api\/dataproducts\/[abc]$/.test(r.url))).toHaveLength(3);
  });

  it('lists whole products from the pages alone when the list serves whole documents', async () => {
    const { client, requests } = await setup((req, res) => {
      if (req.url === '/api/dataproducts?p=0')
        return json(res, 200, [dps('a'), dps('b')], { link: '</api/dataproducts?p=1>; rel="next"' });
      if (req.url === '/api/dataproducts?p=1') return json(res, 200, [dps('c')]);
      return json(res, 200, dps(req.url.split('/').pop() ?? ''));
    });
    const products = await client.listDataProductsInFull();
    expect(products?.map((p) => p.id)).toEqual(['a', 'b', 'c']);
    expect(products?.[2]?.outputPorts).toHaveLength(1);
    // Two pages and the one detail read that shows the list is whole.
    expect(requests).toHaveLength(3);
  });

  it('answers undefined when the list serves only top-level properties', async () => {
    const { client, requests } = await setup((req, res) => {
      if (req.url === '/api/dataproducts?p=0')
        return json(
          res,
          200,
          ['a', 'b'].map((id) => ({ ...dps(id), outputPorts: undefined })),
        );
      return json(res, 200, dps(req.url.split('/').pop() ?? ''));
    });
    expect(await client.listDataProductsInFull()).toBeUndefined();
    expect(requests).toHaveLength(2);
  });

  it('names the product when a document is malformed', async () => {
    const { client } = await setup((_req, res) =>
      json(res, 200, {
        dataProductSpecification: '0.0.1',
        id: 'x',
        info: { title: 'X', owner: 't' },
        outputPorts: [{ name: 'no id' }],
      }),
    );
    await expect(client.getDataProduct('x')).rejects.toMatchObject({
      name: 'DataProductFormatError',
      dataProductId: 'x',
      message: expect.stringMatching(/^Data product "x": /),
    });
  });
});

describe('teams', () => {
  it('reads a team and returns undefined for an unknown one', async () => {
    const { client } = await setup((req, res) =>
      req.url === '/api/teams/marketing'
        ? json(res, 200, { id: 'marketing', name: 'Marketing', members: [] })
        : problem(res, 404, 'Not Found'),
    );
    expect(await client.getTeam('marketing')).toEqual({
      id: 'marketing',
      name: 'Marketing',
      raw: { id: 'marketing', name: 'Marketing', members: [] },
    });
    expect(await client.getTeam('nobody')).toBeUndefined();
  });

  it('rejects a team without an id', async () => {
    const { client } = await setup((_req, res) => json(res, 200, { name: 'x' }));
    await expect(client.getTeam('t')).rejects.toThrow(/team id: /);
  });
});

describe('data contracts', () => {
  it('reads an ODCS contract, undefined for an unknown one, and an unreadable one as DataContractFormatError', async () => {
    const { client, requests } = await setup((req, res) => {
      if (req.url === '/api/datacontracts/orders%2Fv1')
        return json(res, 200, {
          apiVersion: 'v3.1.0',
          kind: 'DataContract',
          id: 'orders/v1',
          servers: [{ server: 'p', type: 's3', location: 's3://a/b/' }],
        });
      if (req.url === '/api/datacontracts/bad') return json(res, 200, { apiVersion: 'v2.2.2', id: 'bad' });
      return problem(res, 404, 'Not Found');
    });
    expect(await client.getDataContract('orders/v1')).toMatchObject({
      id: 'orders/v1',
      servers: [{ name: 'p', type: 's3', block: { type: 's3', location: 's3://a/b/' } }],
    });
    expect(await client.getDataContract('nobody')).toBeUndefined();
    await expect(client.getDataContract('bad')).rejects.toMatchObject({
      name: 'DataContractFormatError',
      field: 'apiVersion',
    });
    expect(paths(requests)).toEqual([
      'GET /api/datacontracts/orders%2Fv1',
      'GET /api/datacontracts/nobody',
      'GET /api/datacontracts/bad',
    ]);
  });

  it('a server error is an outage, not a missing contract', async () => {
    const { client } = await setup((_req, res) => problem(res, 503, 'Service Unavailable'));
    const error = await client.getDataContract('c').catch((e: unknown) => e);
    expect(isOutage(error)).toBe(true);
  });
});

describe('reportProvisioning', () => {
  const report = { platform: 'aws', executor: 'dmm-aws', reference: 'arn:aws:iam::1:role/r' };

  it('POSTs the transition and its report', async () => {
    const { client, requests } = await setup((_req, res) => json(res, 200, { status: 'provisioned' }), {
      apiGeneration: 'access',
    });
    expect(await client.reportProvisioning('a1', 'provisioning-succeeded', report)).toBe('reported');
    expect(paths(requests)).toEqual(['POST /api/access/a1/provisioning/provisioning-succeeded']);
    expect(JSON.parse(requests[0]?.body ?? '')).toEqual(report);
  });

  it('remembers "unsupported" when the agreement exists but the endpoint does not', async () => {
    const { client, requests } = await setup(
      (req, res) => (req.method === 'GET' ? json(res, 200, agreement('a1')) : problem(res, 404, 'Not Found')),
      { apiGeneration: 'access' },
    );
    expect(await client.reportProvisioning('a1', 'provisioning-started', report)).toBe('unsupported');
    expect(await client.reportProvisioning('a1', 'provisioning-succeeded', report)).toBe('unsupported');
    expect(paths(requests)).toEqual(['POST /api/access/a1/provisioning/provisioning-started', 'GET /api/access/a1']);
  });

  it('does not switch provisioning off because one agreement is gone', async () => {
    const { client, requests } = await setup(
      (req, res) =>
        req.url.startsWith('/api/access/gone')
          ? problem(res, 404, 'Not Found')
          : json(res, 200, { status: 'provisioned' }),
      { apiGeneration: 'access' },
    );
    expect(await client.reportProvisioning('gone', 'deprovisioning-succeeded', report)).toBe('unsupported');
    expect(await client.reportProvisioning('a2', 'provisioning-succeeded', report)).toBe('reported');
    expect(paths(requests)).toEqual([
      'POST /api/access/gone/provisioning/deprovisioning-succeeded',
      'GET /api/access/gone',
      'POST /api/access/a2/provisioning/provisioning-succeeded',
    ]);
  });

  it('needs no extra lookup for a gone agreement once the endpoint is known to exist', async () => {
    const { client, requests } = await setup(
      (req, res) => (req.url.startsWith('/api/access/gone') ? problem(res, 404, 'Not Found') : json(res, 200, {})),
      { apiGeneration: 'access' },
    );
    await client.reportProvisioning('a1', 'provisioning-started', report);
    expect(await client.reportProvisioning('gone', 'provisioning-started', report)).toBe('unsupported');
    expect(requests).toHaveLength(2);
  });

  it('treats 405 as a missing endpoint', async () => {
    const { client, requests } = await setup((_req, res) => problem(res, 405, 'Method Not Allowed'), {
      apiGeneration: 'access',
    });
    expect(await client.reportProvisioning('a1', 'provisioning-failed', { diagnostics: 'x' })).toBe('unsupported');
    expect(await client.reportProvisioning('a1', 'provisioning-failed', { diagnostics: 'x' })).toBe('unsupported');
    expect(requests).toHaveLength(1);
  });

  it('answers "unsupported" on the older generation without calling the server', async () => {
    const { client, requests } = await setup((_req, res) => json(res, 200, {}), {
      apiGeneration: 'datausageagreements',
    });
    expect(await client.reportProvisioning('d1', 'provisioning-succeeded', report)).toBe('unsupported');
    expect(requests).toHaveLength(0);
  });

  it('passes other failures on', async () => {
    const { client } = await setup((_req, res) => problem(res, 403, 'Forbidden', 'Invalid API key'), {
      apiGeneration: 'access',
    });
    const error = await client.reportProvisioning('a1', 'provisioning-started', report).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DmmApiError);
    expect((error as DmmApiError).message).toBe(
      'POST /api/access/a1/provisioning/provisioning-started failed: 403 Forbidden – Invalid API key',
    );
  });
});
