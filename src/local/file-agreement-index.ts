/**
 * The agreement index (src/sync/agreement-index.ts) for the CLI: one JSON file
 * `{ "entries": [{ "agreementId": "...", "roleArns": ["..."] }] }` (`roleArns` holds every
 * holding: role ARNs, and the other grant targets' holdings), sorted by agreement id and
 * replaced atomically on every change like the other local state files. A list rather than an
 * object keyed by id, because ids are user input and `__proto__` is no safe object key. A missing
 * file is an empty index; deleting it is safe (the next full reconcile writes it again).
 */
import { z } from 'zod';
import { normalizeHoldings, type AgreementIndex } from '../sync/agreement-index.js';
import { JsonFileStore } from './state-store.js';

const fileSchema = z.strictObject({
  entries: z.array(z.strictObject({ agreementId: z.string().min(1), roleArns: z.array(z.string().min(1)) })),
});

type IndexFile = z.infer<typeof fileSchema>;

export class FileAgreementIndex implements AgreementIndex {
  private readonly store: JsonFileStore<IndexFile>;

  constructor(path: string) {
    this.store = new JsonFileStore(path, fileSchema, () => ({ entries: [] }));
  }

  get path(): string {
    return this.store.path;
  }

  async holdingsOf(agreementId: string): Promise<string[] | undefined> {
    const { entries } = await this.store.read();
    return entries.find((entry) => entry.agreementId === agreementId)?.roleArns;
  }

  async list(): Promise<Map<string, string[]>> {
    const { entries } = await this.store.read();
    return new Map(entries.map((e) => [e.agreementId, e.roleArns]));
  }

  async record(agreementId: string, holdings: string[]): Promise<void> {
    const entry = normalizeHoldings(holdings);
    await this.store.update((state) => {
      state.entries = state.entries.filter((e) => e.agreementId !== agreementId);
      state.entries.push({ agreementId, roleArns: entry });
      state.entries.sort((a, b) => (a.agreementId < b.agreementId ? -1 : a.agreementId > b.agreementId ? 1 : 0));
    });
  }

  async forget(agreementId: string): Promise<void> {
    await this.store.update((state) => {
      state.entries = state.entries.filter((e) => e.agreementId !== agreementId);
    });
  }
}
