import type { AgreementFormatError } from '../model/read-agreement.js';
import { DataProductFormatError } from '../model/read-data-product.js';
import type { ProductLookup, SyncContext } from './context.js';

/**
 * The agreements a data contract change can affect: those naming it (`provider.dataContractId`)
 * and those on an output port that references it. Contract events are rare and the list API
 * cannot filter by contract, so every agreement is read and each provider product once (`products`,
 * shared with the reconcile that follows). An unreadable agreement with an id is included, so its
 * reconcile reports it; a provider that cannot be read is skipped here (its agreements' own
 * reconciles report it).
 */
export async function agreementsOfContract(
  ctx: SyncContext,
  dataContractId: string,
  products: ProductLookup,
): Promise<string[]> {
  const unreadable: string[] = [];
  const onUnreadable = (error: AgreementFormatError) => {
    if (error.agreementId !== undefined) unreadable.push(error.agreementId);
  };
  const ids: string[] = [];
  for (const agreement of await ctx.dmm.listAgreements({}, onUnreadable)) {
    if (agreement.provider.dataContractId === dataContractId) {
      ids.push(agreement.id);
      continue;
    }
    const { dataProductId, outputPortId } = agreement.provider;
    let provider: Awaited<ReturnType<ProductLookup['getDataProduct']>>;
    try {
      provider = await products.getDataProduct(dataProductId);
    } catch (error) {
      if (error instanceof DataProductFormatError) continue;
      throw error;
    }
    const onPort = provider?.outputPorts.some(
      (port) => (port.id === outputPortId || port.name === outputPortId) && port.dataContractId === dataContractId,
    );
    if (onPort) ids.push(agreement.id);
  }
  return [...new Set([...ids, ...unreadable])];
}
