import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_LOCAL_API_KEY, loadConfig } from '../src/config.js';

let cwd: string;
beforeEach(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'dmm-aws-config-'));
});
afterEach(async () => {
  await rm(cwd, { recursive: true, force: true });
});

describe('loadConfig', () => {
  it('defaults to the local simulator and the local AWS stand-in, with the local key', () => {
    const config = loadConfig({ cwd, env: {} });
    expect(config.dmm).toMatchObject({
      baseUrl: 'http://127.0.0.1:8080',
      apiKey: DEFAULT_LOCAL_API_KEY,
      apiGeneration: 'auto',
    });
    expect(config.aws).toMatchObject({
      target: 'local',
      localStateFile: join(cwd, '.dmm-aws/aws-account.json'),
      managedRolePath: '/',
    });
    expect(config.aws.accountId).toBeUndefined();
    expect(config.stateDir).toBe(join(cwd, '.dmm-aws'));
  });

  it('takes flags over environment over the config file', async () => {
    await writeFile(
      join(cwd, 'dmm-aws.yaml'),
      'dmm:\n  baseUrl: https://file.example.com\n  apiGeneration: datausageagreements\nglue:\n  athenaWorkgroup: from-file\n',
    );
    const config = loadConfig({
      cwd,
      env: {
        DMM_BASE_URL: 'https://env.example.com',
        DMM_API_KEY: 'secret-from-env',
        DMM_ATHENA_WORKGROUP: 'from-env',
      },
      flags: { 'dmm.baseUrl': 'https://flag.example.com', 'glue.athenaWorkgroup': undefined },
    });
    expect(config.dmm.baseUrl).toBe('https://flag.example.com');
    expect(config.dmm.apiKey).toBe('secret-from-env');
    expect(config.dmm.apiGeneration).toBe('datausageagreements');
    expect(config.glue.athenaWorkgroup).toBe('from-env');
  });

  it('reads the data contract server selection from the file and the environment', async () => {
    await writeFile(join(cwd, 'dmm-aws.yaml'), 'dataContracts:\n  server: lake-eu\n');
    const config = loadConfig({ cwd, env: { DMM_DATA_CONTRACT_ENVIRONMENT: 'prod' } });
    expect(config.dataContracts).toEqual({ server: 'lake-eu', environment: 'prod' });
    expect(loadConfig({ cwd: join(cwd, 'elsewhere'), env: {} }).dataContracts).toEqual({});
    await writeFile(join(cwd, 'dmm-aws.yaml'), 'dataContracts:\n  servr: lake-eu\n');
    expect(() => loadConfig({ cwd, env: {} })).toThrow(/dataContracts/);
  });

  it('requires an API key for anything but a loopback server', () => {
    expect(() => loadConfig({ cwd, env: { DMM_BASE_URL: 'https://api.entropy-data.com' } })).toThrow(
      /no Data Mesh Manager API key.*DMM_API_KEY/,
    );
  });

  it('names the bad setting and its environment variable', () => {
    const attempt = () =>
      loadConfig({
        cwd,
        env: { DMM_API_GENERATION: 'v3', AWS_REGION: 'moon', DMM_ATHENA_RESULTS_LOCATION: 'bucket/prefix' },
      });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/dmm\.apiGeneration.*\(env DMM_API_GENERATION\)/);
    expect(attempt).toThrow(/aws\.region: must be an AWS region.*\(env AWS_REGION\)/);
    expect(attempt).toThrow(/glue\.athenaQueryResultsLocation: must look like s3:\/\/bucket\/prefix\//);
  });

  it('refuses unknown keys and unreadable files instead of ignoring them', async () => {
    await writeFile(join(cwd, 'typo.yaml'), 'dmm:\n  baseURL: https://x.example.com\n');
    expect(() => loadConfig({ cwd, env: {}, configFile: 'typo.yaml' })).toThrow(/baseURL/);
    expect(() => loadConfig({ cwd, env: {}, configFile: 'missing.yaml' })).toThrow(
      /cannot read config file .*missing\.yaml: ENOENT/,
    );
    await writeFile(join(cwd, 'broken.yaml'), 'dmm: [unclosed\n');
    expect(() => loadConfig({ cwd, env: {}, configFile: 'broken.yaml' })).toThrow(/not valid YAML/);
  });

  it('reads guardrails from the environment and the file, naming bad ones', async () => {
    await writeFile(
      join(cwd, 'dmm-aws.yaml'),
      'guardrails:\n  ownershipTagKey: dmm:data-product\n  maxStatementsPerAgreement: 8\n',
    );
    const config = loadConfig({
      cwd,
      env: {
        DMM_PROTECTED_ROLES: 'admin, break-glass-*',
        DMM_ALLOWED_RESOURCE_ACCOUNTS: '111122223333,444455556666',
        DMM_REQUIRED_ROLE_TAG: 'dmm-aws=managed',
      },
    });
    expect(config.guardrails).toEqual({
      ownershipTagKey: 'dmm:data-product',
      maxStatementsPerAgreement: 8,
      protectedRoles: ['admin', 'break-glass-*'],
      allowedResourceAccounts: ['111122223333', '444455556666'],
      requiredRoleTag: 'dmm-aws=managed',
    });
    expect(loadConfig({ cwd, env: { DMM_ALLOWED_RESOURCE_ACCOUNTS: '*' } }).guardrails.allowedResourceAccounts).toBe(
      '*',
    );
    expect(() => loadConfig({ cwd, env: { DMM_ALLOWED_RESOURCE_ACCOUNTS: 'acme' } })).toThrow(
      /guardrails\.allowedResourceAccounts.*12-digit.*\(env DMM_ALLOWED_RESOURCE_ACCOUNTS\)/s,
    );
  });

  it('reads ownership proof settings: on by default, off only when said, allow-list from YAML or JSON in the environment', async () => {
    expect(loadConfig({ cwd, env: {} }).guardrails.ownershipProof).toBeUndefined();
    await writeFile(
      join(cwd, 'dmm-aws.yaml'),
      [
        'guardrails:',
        '  ownershipTeamTagKey: dmm:team',
        '  ownershipAllowList:',
        '    - dataProduct: orders',
        '      resources: ["arn:aws:s3:::shared-lake/orders/*"]',
        '    - team: sales',
        '      resources: ["arn:aws:glue:eu-central-1:123456789012:table/sales/*"]',
        '',
      ].join('\n'),
    );
    expect(loadConfig({ cwd, env: {} }).guardrails).toEqual({
      ownershipTeamTagKey: 'dmm:team',
      ownershipAllowList: [
        { dataProduct: 'orders', resources: ['arn:aws:s3:::shared-lake/orders/*'] },
        { team: 'sales', resources: ['arn:aws:glue:eu-central-1:123456789012:table/sales/*'] },
      ],
    });
    const fromEnv = loadConfig({
      cwd,
      env: {
        DMM_OWNERSHIP_PROOF: 'off',
        DMM_OWNERSHIP_ALLOW_LIST: '[{"team":"sales","resources":["arn:aws:kms:eu-central-1:123456789012:key/*"]}]',
      },
    });
    expect(fromEnv.guardrails.ownershipProof).toBe('off');
    expect(fromEnv.guardrails.ownershipAllowList).toEqual([
      { team: 'sales', resources: ['arn:aws:kms:eu-central-1:123456789012:key/*'] },
    ]);
    // An entry that could cover everything, or is not JSON, is refused with the variable named.
    expect(() =>
      loadConfig({ cwd, env: { DMM_OWNERSHIP_ALLOW_LIST: '[{"team":"sales","resources":["*"]}]' } }),
    ).toThrow(/guardrails\.ownershipAllowList.*\(env DMM_OWNERSHIP_ALLOW_LIST\)/s);
    expect(() => loadConfig({ cwd, env: { DMM_OWNERSHIP_ALLOW_LIST: 'orders=arn:aws:s3:::x' } })).toThrow(
      /guardrails\.ownershipAllowList.*\(env DMM_OWNERSHIP_ALLOW_LIST\)/s,
    );
    expect(() => loadConfig({ cwd, env: { DMM_OWNERSHIP_PROOF: 'maybe' } })).toThrow(/guardrails\.ownershipProof/);
  });

  it('takes https:// for remote servers and http:// only on this machine; other schemes are refused at once', () => {
    const key = { DMM_API_KEY: 'k' };
    for (const url of [
      'https://api.entropy-data.com',
      'http://127.0.0.1:8080',
      'http://localhost:9000',
      'http://[::1]:8080',
    ])
      expect(loadConfig({ cwd, env: { ...key, DMM_BASE_URL: url } }).dmm.baseUrl).toBe(url);
    expect(() => loadConfig({ cwd, env: { ...key, DMM_BASE_URL: 'http://dmm.example.com' } })).toThrow(
      'dmm.baseUrl: must use https:// for a remote host (the API key would travel in clear text); http:// is only for 127.0.0.1 or localhost (env DMM_BASE_URL)',
    );
    for (const url of ['ftp://dmm.example.com', 'file:///etc/passwd', 'http://127.0.0.1.evil.example'])
      expect(() => loadConfig({ cwd, env: { ...key, DMM_BASE_URL: url } }), url).toThrow(/dmm\.baseUrl: must/);
  });

  it('reads who governs Glue tables from glue.tablesGovernedBy or DMM_GLUE_TABLES_GOVERNED_BY; unset means IAM', () => {
    expect(loadConfig({ cwd, env: {} }).glue.tablesGovernedBy).toBeUndefined();
    expect(loadConfig({ cwd, env: { DMM_GLUE_TABLES_GOVERNED_BY: 'lake-formation' } }).glue.tablesGovernedBy).toBe(
      'lake-formation',
    );
    expect(() => loadConfig({ cwd, env: { DMM_GLUE_TABLES_GOVERNED_BY: 'ranger' } })).toThrow(/glue\.tablesGovernedBy/);
  });

  it('has no implicit Athena workgroup and no fixed log level (each command has its own default)', () => {
    const config = loadConfig({ cwd, env: {} });
    expect(config.glue.athenaWorkgroup).toBeUndefined();
    expect(config.logLevel).toBeUndefined();
    expect(loadConfig({ cwd, env: { LOG_LEVEL: 'debug' } }).logLevel).toBe('debug');
  });
});
