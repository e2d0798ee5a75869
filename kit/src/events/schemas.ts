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
