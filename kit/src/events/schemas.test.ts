import { readFileSync } from 'node:fs';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { generateEventTypes, generatedTypesFile } from './generate-types.ts';
import { readEventSchemas, readSchemaHistory } from './schemas.ts';

const schemas = readEventSchemas();

describe('schemas/', () => {
  it('holds at least one schema', () => {
    expect(schemas.length).toBeGreaterThan(0);
  });

  it.each(schemas.map((s) => [s.topic, s.text]))('%s.avsc parses as an Avro record with documentation', (_topic, text) => {
    const type = avro.Type.forSchema(JSON.parse(text) as avro.Schema);
    expect(type.typeName).toBe('record');
    expect((JSON.parse(text) as { doc?: string }).doc).toBeTruthy();
  });

  it('matches the checked-in TypeScript types (run `npm run generate:events` after a schema change)', () => {
    expect(readFileSync(generatedTypesFile, 'utf8')).toBe(generateEventTypes(schemas));
  });
});

describe('schemas/history/', () => {
  const chains = schemas
    .map((current) => ({ topic: current.topic, versions: [...readSchemaHistory(current.topic), current] }))
    .filter((chain) => chain.versions.length > 1);

  it('holds the earlier versions of product-update', () => {
    expect(chains.map((chain) => chain.topic)).toContain('product-update');
  });

  // BACKWARD, as the registry checks it: each version's reader reads what the one before wrote.
  it.each(chains.map((chain) => [chain.topic, chain.versions]))('%s: every version reads the one before it', (_topic, versions) => {
    const types = versions.map((version) => avro.Type.forSchema(JSON.parse(version.text) as avro.Schema));
    for (let index = 1; index < types.length; index += 1) {
      expect(() => types[index]!.createResolver(types[index - 1]!)).not.toThrow();
    }
  });
});
