/**
 * The Data Mesh Manager API key from Secrets Manager, read once per Lambda container. The value
 * never appears in a log line or an error message: errors name the secret, not its content.
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createSecretsManagerClient } from './clients.js';
import { awsErrorCode, messageOf } from './errors.js';

export const SECRETS_ACTIONS_USED = ['secretsmanager:GetSecretValue'] as const;

export interface SecretApiKeyOptions {
  /** Default: createSecretsManagerClient() from the standard AWS configuration. */
  client?: SecretsManagerClient;
  /** Name or ARN (DMM_API_KEY_SECRET_ARN). */
  secretId: string;
}

export class SecretApiKey {
  readonly secretId: string;
  private readonly client: SecretsManagerClient;
  private cached: Promise<string> | undefined;

  constructor(options: SecretApiKeyOptions) {
    this.secretId = options.secretId;
    this.client = options.client ?? createSecretsManagerClient();
  }

  /** The key; concurrent callers share one read. A failed read is not cached, so the next call tries again. */
  get(): Promise<string> {
    if (!this.cached) {
      const reading = this.read();
      this.cached = reading;
      reading.catch(() => {
        if (this.cached === reading) this.cached = undefined;
      });
    }
    return this.cached;
  }

  /** Forget the key, e.g. after a 401/403: it may have been rotated. The next get() reads it again. */
  invalidate(): void {
    this.cached = undefined;
  }

  private async read(): Promise<string> {
    let secret: string | undefined;
    try {
      secret = (await this.client.send(new GetSecretValueCommand({ SecretId: this.secretId }))).SecretString;
    } catch (error) {
      throw new Error(
        `cannot read the API key secret ${this.secretId}: ${awsErrorCode(error) ?? 'error'}: ${messageOf(error)}`,
        { cause: error },
      );
    }
    if (secret === undefined)
      throw new Error(`secret ${this.secretId} has no string value (binary secrets are not supported)`);
    return apiKeyFromSecret(secret, this.secretId);
  }
}

/**
 * A plain string, or JSON `{"apiKey": "..."}` (how the console's key/value editor stores it).
 * JSON.parse's own message is not passed on: it can quote the text it failed on.
 */
export function apiKeyFromSecret(secret: string, secretId: string): string {
  const text = secret.trim();
  if (!text.startsWith('{')) {
    if (text === '') throw new Error(`secret ${secretId} is empty`);
    return text;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(
      `secret ${secretId} looks like JSON but does not parse; store the key as plain text or as {"apiKey": "..."}`,
    );
  }
  const apiKey = typeof parsed === 'object' && parsed !== null ? (parsed as { apiKey?: unknown }).apiKey : undefined;
  if (typeof apiKey !== 'string' || apiKey.trim() === '') {
    throw new Error(
      `secret ${secretId} is JSON without a non-empty string "apiKey"; store the key as plain text or as {"apiKey": "..."}`,
    );
  }
  return apiKey.trim();
}
