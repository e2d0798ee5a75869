/**
 * What was thrown, as text, whatever it is: JavaScript lets code throw anything (undefined,
 * a plain object, an object without a prototype, which has no toString and makes String()
 * throw), and a dead letter's reason or a span's status must still say something.
 */
export function describeThrown(thrown: unknown): string {
  if (thrown instanceof Error) return `${thrown.name}: ${thrown.message}`;
  try {
    return typeof thrown === 'object' && thrown !== null ? `a thrown non-Error: ${JSON.stringify(thrown)}` : `a thrown ${String(thrown)}`;
  } catch {
    return 'a thrown value that cannot be shown';
  }
}
