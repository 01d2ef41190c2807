/**
 * The agreement index (src/sync/agreement-index.ts) for the CLI: one JSON file
 * `{ "entries": [{ "agreementId": "...", "roleArns": ["..."] }] }` (`roleArns` holds every
 * holding: role ARNs, and the other grant targets' holdings), sorted by agreement id and
 * replaced atomically on every change like the other local state files. A list rather than an
 * object keyed by id, because ids are user input and `__proto__` is no safe object key. A missing
 * file is an empty index; deleting it is safe (the next full reconcile writes it again).
 *
 * So a damaged file is not kept in the way either: reading it is an error (the sync then finds the
 * roles without the index, as it does for an unreadable index in S3), and the next change sets it
 * aside as `<file>.corrupt-<time>` with a warning and starts a fresh index, which the full
 * reconcile fills again (it records every agreement whose entry it could not read).
 */
import { z } from 'zod';
import { normalizeHoldings, type AgreementIndex } from '../sync/agreement-index.js';
import { createLogger, jsonLinesSink, type Logger } from '../util/log.js';
import { JsonFileStore } from './state-store.js';

const fileSchema = z.strictObject({
  entries: z.array(z.strictObject({ agreementId: z.string().min(1), roleArns: z.array(z.string().min(1)) })),
});

type IndexFile = z.infer<typeof fileSchema>;

export class FileAgreementIndex implements AgreementIndex {
  private readonly store: JsonFileStore<IndexFile>;

  /** `log` hears about a damaged file set aside; default: JSON lines on stderr. */
  constructor(path: string, options: { log?: Logger } = {}) {
    const log = options.log ?? createLogger(jsonLinesSink(), 'warn');
    this.store = new JsonFileStore(path, fileSchema, () => ({ entries: [] }), {
      unreadable: 'set-aside',
      warn: (message, fields) => log.warn(`agreement index: ${message}`, fields),
    });
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
