import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The folder of the Avro sources: one `<topic>.avsc` per event topic. */
export const schemasDirectory = fileURLToPath(new URL('../../../schemas', import.meta.url));

export interface EventSchemaSource {
  topic: string;
  /** The schema as JSON text, exactly as in the file. */
  text: string;
}

/** Every event schema of `schemas/`, sorted by topic. */
export function readEventSchemas(directory: string = schemasDirectory): EventSchemaSource[] {
  return readdirSync(directory)
    .filter((file) => file.endsWith('.avsc'))
    .sort()
    .map((file) => ({ topic: file.slice(0, -'.avsc'.length), text: readFileSync(`${directory}/${file}`, 'utf8') }));
}

/** The folder of the earlier versions of schemas: `<topic>.v<N>.avsc`, N from 1. */
export const schemaHistoryDirectory = fileURLToPath(new URL('../../../schemas/history', import.meta.url));

/**
 * The earlier versions of a topic's schema, oldest first. A registry that has run for a while
 * holds them already; a new one (a fresh clone, a test stack) is given them before the current
 * version, so that its subjects number the versions as a long-lived registry does and an
 * evolution can be checked against the versions it evolved from.
 */
export function readSchemaHistory(topic: string, directory: string = schemaHistoryDirectory): EventSchemaSource[] {
  let files: string[];
  try {
    files = readdirSync(directory);
  } catch {
    return [];
  }
  const pattern = new RegExp(`^${topic}\\.v(\\d+)\\.avsc$`);
  return files
    .map((file) => ({ file, version: Number(pattern.exec(file)?.[1]) }))
    .filter(({ version }) => Number.isInteger(version))
    .sort((a, b) => a.version - b.version)
    .map(({ file }) => ({ topic, text: readFileSync(`${directory}/${file}`, 'utf8') }));
}
