/**
 * The local stand-in AWS account is for trying the tool out: its roles are not the tenant's, so
 * what it would report ("role does not exist in account 123456789012") is not true of any real
 * agreement. Its write-back therefore reaches only the bundled simulator; against any other Data
 * Mesh Manager the sync runs as a dry run for Data Mesh Manager (it still reads everything and
 * converges the local files) and says so, unless the operator opts in with `aws.localWriteBack`.
 */
import type { Agreement } from '../model/agreement.js';
import type { AgreementFormatError } from '../model/read-agreement.js';
import type { DataContract } from '../model/data-contract.js';
import type { DataProduct } from '../model/data-product.js';
import type { FeedEvent } from '../model/events.js';
import type {
  AgreementFilter,
  DmmApi,
  ProvisioningReport,
  ProvisioningTransition,
  Team,
} from '../interfaces/dmm-api.js';
import type { Logger } from '../util/log.js';

/** Whether the server is dmm-aws's bundled simulator: it alone serves `/simulator/state`. */
export type SimulatorProbe = () => Promise<boolean>;

export function simulatorProbe(baseUrl: string, apiKey: string, timeoutMs: number): SimulatorProbe {
  return async () => {
    const response = await fetch(new URL('/simulator/state', baseUrl), {
      headers: { 'x-api-key': apiKey, accept: 'application/json' },
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'error',
    });
    if (!response.ok) {
      await response.body?.cancel();
      return false;
    }
    const body: unknown = await response.json().catch(() => undefined);
    return typeof body === 'object' && body !== null && 'eventPrefix' in body && 'generation' in body;
  };
}

export class SimulatorOnlyWriteBack implements DmmApi {
  /** Settled on the first write; a failed probe (network) is asked again next time. */
  private verdict: Promise<boolean> | undefined;

  constructor(
    private readonly dmm: DmmApi,
    private readonly probe: SimulatorProbe,
    private readonly baseUrl: string,
    private readonly log: Logger,
  ) {}

  pollEvents(lastEventId?: string): Promise<FeedEvent[]> {
    return this.dmm.pollEvents(lastEventId);
  }
  getAgreement(id: string): Promise<Agreement | undefined> {
    return this.dmm.getAgreement(id);
  }
  listAgreements(filter?: AgreementFilter, onUnreadable?: (error: AgreementFormatError) => void): Promise<Agreement[]> {
    return this.dmm.listAgreements(filter, onUnreadable);
  }
  getDataProduct(id: string): Promise<DataProduct | undefined> {
    return this.dmm.getDataProduct(id);
  }
  listDataProducts(): Promise<DataProduct[]> {
    return this.dmm.listDataProducts();
  }
  async listDataProductsInFull(): Promise<DataProduct[] | undefined> {
    return this.dmm.listDataProductsInFull?.();
  }
  getTeam(id: string): Promise<Team | undefined> {
    return this.dmm.getTeam(id);
  }
  getDataContract(id: string): Promise<DataContract | undefined> {
    return this.dmm.getDataContract(id);
  }

  async putAgreement(id: string, document: Record<string, unknown>): Promise<void> {
    if (await this.writesAllowed()) return this.dmm.putAgreement(id, document);
    this.log.info('dry run for Data Mesh Manager: not writing back', { agreementId: id, write: 'PUT agreement' });
  }

  async reportProvisioning(
    agreementId: string,
    transition: ProvisioningTransition,
    report: ProvisioningReport,
  ): Promise<'reported' | 'unsupported'> {
    if (await this.writesAllowed()) return this.dmm.reportProvisioning(agreementId, transition, report);
    this.log.info('dry run for Data Mesh Manager: not writing back', {
      agreementId,
      write: `provisioning ${transition}`,
    });
    // Nothing to fall back to: a PUT would be skipped just the same.
    return 'reported';
  }

  private async writesAllowed(): Promise<boolean> {
    this.verdict ??= this.probe().then(
      (simulator) => {
        if (!simulator) {
          this.log.warn(
            `dry run for Data Mesh Manager: the local stand-in AWS account is in use, and ${this.baseUrl} is not the bundled simulator, so nothing is written back (the stand-in's roles are not your tenant's). Use aws.target=aws (DMM_AWS_TARGET=aws) for real grants, or set aws.localWriteBack=true (DMM_LOCAL_WRITE_BACK=true) to report anyway`,
          );
        }
        return simulator;
      },
      (error: unknown) => {
        this.verdict = undefined;
        throw error;
      },
    );
    return this.verdict;
  }
}
