// The problem-code table of docs/contract.md against the code: every code a service can
// answer with is listed, with its status, for exactly the services that return it.
//
// A service returns the codes it raises in its own source, and those of the shared kit that
// apply to it. Codes are found in source text by three patterns (see `raisedCodes`):
//   defineProblems({ CODE: 404, ... })      a declaration of codes with their statuses
//   somethingProblems.CODE(                  raising a declared code (also commonProblems.CODE)
//   HttpProblem(404, 'CODE' / code: 'CODE'   a problem built directly, the framework mapping
// A kit code applies to every service unless `kitCodeApplies` names the feature it needs.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const CODE = String.raw`[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*`;

/** Comments out: a code named in a comment is not raised. */
const withoutComments = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"\\])\/\/.*$/gm, '$1');

/** The TypeScript sources under a folder, tests excluded, concatenated, without comments. */
function sourceOf(folder: string): string {
  return (readdirSync(join(root, folder), { recursive: true }) as string[])
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts') && !file.split('/').includes('node_modules'))
    .sort()
    .map((file) => withoutComments(readFileSync(join(root, folder, file), 'utf8')))
    .join('\n');
}

/** Each code raised in `source`, with the statuses found next to it (none when not stated). */
function raisedCodes(source: string): Map<string, Set<number>> {
  const codes = new Map<string, Set<number>>();
  const add = (code: string, status?: string) => {
    const statuses = codes.get(code) ?? new Set<number>();
    if (status !== undefined) statuses.add(Number(status));
    codes.set(code, statuses);
  };
  for (const [, body] of source.matchAll(/\bdefineProblems\s*\(\s*\{([^}]*)\}/g)) {
    for (const [, code, status] of body!.matchAll(new RegExp(String.raw`['"]?\b(${CODE})\b['"]?\s*:\s*(\d{3})\b`, 'g'))) add(code!, status);
  }
  for (const [, code] of source.matchAll(new RegExp(String.raw`\b\w*[Pp]roblems\.(${CODE})\b`, 'g'))) add(code!);
  for (const [, status, code] of source.matchAll(new RegExp(String.raw`\bHttpProblem\(\s*(\d{3})\s*,\s*['"\`](${CODE})['"\`]`, 'g')))
    add(code!, status);
  for (const [, status, code] of source.matchAll(
    new RegExp(String.raw`(?:\bstatus\s*:\s*(\d{3})\s*,\s*)?\bcode\s*[:=]\s*['"\`](${CODE})['"\`]`, 'g'),
  ))
    add(code!, status);
  return codes;
}

// The services: every top-level folder with a service definition in src/.
const services = readdirSync(root)
  .filter((name) => !['kit', 'tools', 'tests', 'node_modules'].includes(name) && !name.startsWith('.'))
  .filter((name) => statSync(join(root, name)).isDirectory())
  .filter((name) =>
    ['main.ts', 'service.ts'].some((file) => {
      try {
        return statSync(join(root, name, 'src', file)).isFile();
      } catch {
        return false;
      }
    }),
  )
  .sort();
const serviceSource = Object.fromEntries(services.map((service) => [service, sourceOf(`${service}/src`)]));
const kitCodes = raisedCodes(sourceOf('kit/src'));

/**
 * The kit's codes that only a service using a kit feature can return, and how its source
 * shows that it uses it; every other kit code (validation, framework errors, 404 for an
 * unknown route, 500, 503 for an unavailable dependency) applies to every service.
 */
const authenticates = (source: string) => /\.authenticate\b|\.requireRole\(/.test(source);
const kitCodeApplies: Record<string, (source: string) => boolean> = {
  TOKEN_MISSING: authenticates,
  TOKEN_INVALID: authenticates,
  TOKEN_EXPIRED: authenticates,
  // A verified token's account standing (kit/src/http/accounts.ts) is checked wherever tokens are.
  TOKEN_REVOKED: authenticates,
  ACCOUNT_DISABLED: authenticates,
  FORBIDDEN: (source) => /\.requireRole\(/.test(source),
  // user-svc verifies tokens with its own key store (`resolveKey`), not through the JWKS.
  AUTH_UNAVAILABLE: (source) => authenticates(source) && !/\bresolveKey\s*:/.test(source),
  INVALID_CURSOR: (source) => /\b(?:decodeCursor|invalidCursor)\(/.test(source),
  RATE_LIMITED: (source) => /@fastify\/rate-limit/.test(source),
};

/** code → the services that return it, and code → its statuses, from the source. */
function implemented(): { returnedBy: Map<string, Set<string>>; statuses: Map<string, Set<number>> } {
  const returnedBy = new Map<string, Set<string>>();
  const statuses = new Map<string, Set<number>>();
  const note = (code: string, service: string, found: Set<number>) => {
    returnedBy.set(code, (returnedBy.get(code) ?? new Set()).add(service));
    statuses.set(code, new Set([...(statuses.get(code) ?? []), ...found]));
  };
  for (const service of services) {
    const source = serviceSource[service]!;
    for (const [code, found] of raisedCodes(source)) note(code, service, new Set([...found, ...(kitCodes.get(code) ?? [])]));
    for (const [code, found] of kitCodes) if (kitCodeApplies[code]?.(source) ?? true) note(code, service, found);
  }
  return { returnedBy, statuses };
}

interface DocumentedCode {
  status: number;
  services: Set<string>;
}

/** The rows between the problem-codes markers of docs/contract.md. */
function documented(): Map<string, DocumentedCode> {
  const text = readFileSync(join(root, 'docs/contract.md'), 'utf8');
  const table = /<!-- problem-codes[^>]*-->([\s\S]*?)<!-- \/problem-codes -->/.exec(text)?.[1];
  if (table === undefined) throw new Error('docs/contract.md has no <!-- problem-codes --> ... <!-- /problem-codes --> table');
  const rows = new Map<string, DocumentedCode>();
  for (const line of table.split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    const code = /^`([A-Z0-9_]+)`$/.exec(cells[1] ?? '')?.[1];
    if (code === undefined) continue;
    if (rows.has(code)) throw new Error(`docs/contract.md lists ${code} twice`);
    const servicesCell = cells[3] ?? '';
    rows.set(code, {
      status: Number(cells[2]),
      services: new Set(
        servicesCell === 'every service' ? services : servicesCell.split(',').map((name) => name.trim().replaceAll('`', '')),
      ),
    });
  }
  return rows;
}

const sorted = (values: Iterable<string>) => [...values].sort();

describe('the problem codes of docs/contract.md', () => {
  const { returnedBy, statuses } = implemented();
  const table = documented();

  it('finds the services and the codes they raise in their source', () => {
    expect(services).toEqual(expect.arrayContaining(['user-svc', 'product-svc', 'order-svc', 'payment-svc', 'gateway-sim']));
    for (const service of services) {
      const own = raisedCodes(serviceSource[service]!);
      expect(own.size, `${service}: no problem code found in its source; has the way codes are declared changed?`).toBeGreaterThan(0);
    }
    expect(kitCodes.has('VALIDATION_FAILED'), 'kit/src: VALIDATION_FAILED not found; has the way codes are declared changed?').toBe(true);
  });

  it('lists every code a service returns, and no other', () => {
    expect(sorted(table.keys())).toEqual(sorted(returnedBy.keys()));
  });

  it.each(sorted(returnedBy.keys()).map((code) => [code]))('%s: lists exactly the services that return it', (code) => {
    expect(sorted(table.get(code)?.services ?? []), `the "returned by" cell of ${code}`).toEqual(sorted(returnedBy.get(code)!));
  });

  it.each(sorted(returnedBy.keys()).map((code) => [code]))('%s: has the status the code raises it with', (code) => {
    const found = [...statuses.get(code)!];
    if (found.length === 0) return; // raised without a status in the source text
    expect(found, `${code} is raised with more than one status`).toHaveLength(1);
    expect(table.get(code)?.status, `the status of ${code}`).toBe(found[0]);
  });

  it('every kit rule names a code the kit raises and fits at least one service', () => {
    for (const [code, applies] of Object.entries(kitCodeApplies)) {
      expect(kitCodes.has(code), `kitCodeApplies.${code}: the kit no longer raises it`).toBe(true);
      expect(
        services.some((service) => applies(serviceSource[service]!)),
        `kitCodeApplies.${code} fits no service: has the feature been renamed?`,
      ).toBe(true);
    }
  });
});
