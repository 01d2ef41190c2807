import type { AgreementFilter, DmmApi, ProvisioningReport, ProvisioningTransition } from '../interfaces/dmm-api.js';
import { DmmApiError } from '../dmm/errors.js';
import type { AgreementFormatError } from '../model/read-agreement.js';
import type { Logger } from '../util/log.js';

/** Where the API key comes from: `SecretApiKey` (cached; `invalidate` forces a re-read). */
export interface ApiKeySource {
  get(): Promise<string>;
  invalidate(): void;
}

/**
 * A DmmApi that survives API key rotation. The key is read from Secrets Manager once and cached
 * for the life of the container; when Data Mesh Manager refuses it (401/403) the secret may have
 * been rotated, so the cached key is dropped, the client rebuilt with a fresh read, and the call
 * made once more. A second refusal is a real permission problem and is thrown.
 */
export class RotatingDmmApi implements DmmApi {
  private client: Promise<DmmApi> | undefined;

  constructor(
    private readonly options: {
      apiKey: ApiKeySource;
      /** Builds the HTTP client for a key. */
      connect: (apiKey: string) => DmmApi;
      log: Logger;
    },
  ) {}

  pollEvents(lastEventId?: string) {
    return this.call((dmm) => dmm.pollEvents(lastEventId));
  }
  getAgreement(id: string) {
    return this.call((dmm) => dmm.getAgreement(id));
  }
  listAgreements(filter?: AgreementFilter, onUnreadable?: (error: AgreementFormatError) => void) {
    return this.call((dmm) => dmm.listAgreements(filter, onUnreadable));
  }
  putAgreement(id: string, document: Record<string, unknown>) {
    return this.call((dmm) => dmm.putAgreement(id, document));
  }
  getDataProduct(id: string) {
    return this.call((dmm) => dmm.getDataProduct(id));
  }
  listDataProducts() {
    return this.call((dmm) => dmm.listDataProducts());
  }
  listDataProductsInFull() {
    return this.call(async (dmm) => dmm.listDataProductsInFull?.());
  }
  getTeam(id: string) {
    return this.call((dmm) => dmm.getTeam(id));
  }
  getDataContract(id: string) {
    return this.call((dmm) => dmm.getDataContract(id));
  }
  reportProvisioning(agreementId: string, transition: ProvisioningTransition, report: ProvisioningReport) {
    return this.call((dmm) => dmm.reportProvisioning(agreementId, transition, report));
  }

  private async call<T>(operation: (dmm: DmmApi) => Promise<T>): Promise<T> {
    const used = this.current();
    try {
      return await operation(await used);
    } catch (error) {
      if (!isRefusedKey(error)) throw error;
      // A full reconcile runs calls in parallel: only the first refusal rebuilds the client,
      // the others retry on the client it builds.
      if (this.client === used) {
        this.options.log.warn('Data Mesh Manager refused the API key; re-reading the secret and retrying once', {
          status: error.status,
        });
        this.options.apiKey.invalidate();
        this.client = undefined;
      }
      return operation(await this.current());
    }
  }

  private current(): Promise<DmmApi> {
    if (!this.client) {
      const client = this.options.apiKey.get().then((key) => this.options.connect(key));
      // A failed secret read is not cached: the next call tries again.
      client.catch(() => {
        if (this.client === client) this.client = undefined;
      });
      this.client = client;
    }
    return this.client;
  }
}

function isRefusedKey(error: unknown): error is DmmApiError {
  return error instanceof DmmApiError && (error.status === 401 || error.status === 403);
}
