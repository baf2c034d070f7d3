// Types of parity.mjs for the UI's TypeScript (Vitest imports it).

export interface ParityCase {
  name: string;
  schema: { components: unknown[]; display?: string };
  before?: Record<string, unknown>;
  data: Record<string, unknown>;
  expect: { invalid: string[]; data?: Record<string, unknown> };
  rendererKeeps?: string[];
}

export interface ParityTable {
  description: string;
  schemas: Record<string, ParityCase['schema']>;
  cases: (Omit<ParityCase, 'schema'> & { schema: string | ParityCase['schema'] })[];
}

export interface ParityOutcome {
  invalid: string[];
  data: Record<string, unknown>;
  error?: string;
}

export const RENDER_OPTIONS: Record<string, unknown>;
export function parityRun(
  schema: ParityCase['schema'],
  answers: [string, unknown][],
  options: Record<string, unknown>,
  done: (outcome: ParityOutcome) => void,
): void;
export function normalise(data: Record<string, unknown>): Record<string, unknown>;
export function typing(testCase: ParityCase): [string, unknown][];
export function cases(table: ParityTable): ParityCase[];
export function differences(testCase: ParityCase, outcome: ParityOutcome): string[];
export function canonical(value: unknown): string;
