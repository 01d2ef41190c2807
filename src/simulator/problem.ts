import { STATUS_CODES } from 'node:http';

/**
 * An RFC 7807 problem the simulator answers with. Lifecycle code throws it, so the HTTP layer and
 * programmatic callers see the same status and detail for the same mistake.
 */
export class SimulatorProblem extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    /** Extra members, e.g. `violations` for request validation failures (400). */
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(detail);
    this.name = 'SimulatorProblem';
  }
}

export interface Violation {
  field: string;
  message: string;
}

export interface ProblemBody {
  type: 'about:blank';
  title: string;
  status: number;
  detail: string;
  instance: string;
  [extension: string]: unknown;
}

/** `title` carries only the reason phrase, as the vendor's ProblemDetail schema says. */
export function problemBody(
  status: number,
  detail: string,
  instance: string,
  extensions: Record<string, unknown> = {},
): ProblemBody {
  return { type: 'about:blank', title: STATUS_CODES[status] ?? 'Error', status, detail, instance, ...extensions };
}

export const notFound = (what: string, id: string): SimulatorProblem =>
  new SimulatorProblem(404, `${what} '${id}' was not found.`);

/** The vendor uses 400 plus `violations` for body validation, 422 for semantic refusals. */
export const invalidBody = (violations: Violation[]): SimulatorProblem =>
  new SimulatorProblem(
    400,
    `The request body is invalid: ${violations.map((v) => `${v.field || '(body)'}: ${v.message}`).join('; ')}`,
    { violations },
  );

export const unprocessable = (detail: string): SimulatorProblem => new SimulatorProblem(422, detail);
