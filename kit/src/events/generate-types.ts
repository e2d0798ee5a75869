// Generates TypeScript types from the Avro sources in schemas/, so that event types have one
// source. Run `npm run generate:events` after changing a schema; a unit test fails while the
// checked-in file differs from what this produces.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readEventSchemas, type EventSchemaSource } from './schemas.ts';

type AvroSchema = string | AvroSchema[] | { [key: string]: unknown };

interface Declaration {
  name: string;
  code: string;
}

function shortName(fullName: string): string {
  return fullName.slice(fullName.lastIndexOf('.') + 1);
}

function pascalCase(topic: string): string {
  return topic.replace(/(^|-)([a-z])/g, (_match, _sep: string, letter: string) => letter.toUpperCase());
}

/** The TypeScript type of an Avro schema as avsc decodes it; named types become declarations. */
function typeOf(schema: AvroSchema, declarations: Declaration[]): string {
  if (Array.isArray(schema)) return schema.map((branch) => typeOf(branch, declarations)).join(' | ');
  if (typeof schema === 'string') {
    switch (schema) {
      case 'null':
        return 'null';
      case 'boolean':
        return 'boolean';
      case 'int':
      case 'long':
      case 'float':
      case 'double':
        return 'number';
      case 'bytes':
        return 'Buffer';
      case 'string':
        return 'string';
      default:
        return shortName(schema);
    }
  }
  const type = schema['type'] as AvroSchema;
  switch (type) {
    case 'record': {
      const name = shortName(String(schema['name']));
      const fields = schema['fields'] as { name: string; type: AvroSchema; doc?: string }[];
      const lines = fields.map((f) => `${f.doc ? `  /** ${f.doc} */\n` : ''}  ${f.name}: ${typeOf(f.type, declarations)};`);
      const doc = typeof schema['doc'] === 'string' ? `/** ${schema['doc']} */\n` : '';
      declarations.push({ name, code: `${doc}export interface ${name} {\n${lines.join('\n')}\n}` });
      return name;
    }
    case 'enum': {
      const name = shortName(String(schema['name']));
      const symbols = (schema['symbols'] as string[]).map((s) => `'${s}'`).join(' | ');
      declarations.push({ name, code: `export type ${name} = ${symbols};` });
      return name;
    }
    case 'array':
      return `${typeOf(schema['items'] as AvroSchema, declarations)}[]`;
    case 'map':
      return `Record<string, ${typeOf(schema['values'] as AvroSchema, declarations)}>`;
    case 'fixed':
      return 'Buffer';
    default:
      return typeOf(type, declarations);
  }
}

export function generateEventTypes(sources: EventSchemaSource[]): string {
  const declarations: Declaration[] = [];
  const topics = sources.map(({ topic, text }) => ({ topic, root: typeOf(JSON.parse(text) as AvroSchema, declarations) }));
  return [
    '// Generated from schemas/*.avsc by kit/src/events/generate-types.ts. Do not edit:',
    '// change the schema and run `npm run generate:events`.',
    '',
    // A named type repeated in several schemas (each registry subject stands alone, so an enum
    // such as Role is spelled out in every schema that uses it) is declared once.
    ...[...new Map(declarations.map((d) => [d.code, d])).values()].map((d) => `${d.code}\n`),
    '/** The value type of each event topic. */',
    'export interface EventsByTopic {',
    ...topics.map(({ topic, root }) => `  '${topic}': ${root};`),
    '}',
    '',
    'export type EventTopic = keyof EventsByTopic;',
    '',
    `export const eventTopics = [${topics.map(({ topic }) => `'${topic}'`).join(', ')}] as const satisfies readonly EventTopic[];`,
    '',
    ...topics.map(({ topic, root }) => `export type ${pascalCase(topic)}Event = ${root};`),
    '',
  ].join('\n');
}

export const generatedTypesFile = fileURLToPath(new URL('../../../schemas/types.generated.ts', import.meta.url));

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(generatedTypesFile, generateEventTypes(readEventSchemas()));
  console.log(`wrote ${generatedTypesFile}`);
}
