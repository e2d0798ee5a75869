import { readFileSync } from 'node:fs';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { generateEventTypes, generatedTypesFile } from './generate-types.ts';
import { readEventSchemas } from './schemas.ts';

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
