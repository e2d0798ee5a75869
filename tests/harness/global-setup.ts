import type { TestProject } from 'vitest/node';
import { migrateServiceDatabases } from '@shop/kit';
import { dockerAvailable, startComposeStack } from './containers.ts';
import { isReachable, stackEndpoints, stackKind, type StackKind } from './stack.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    stackKind: StackKind;
  }
}

/**
 * Finds the stack the integration tests run against: the one `make up` started (native or
 * compose, named by SHOP_STACK), or, when none answers and Docker does, compose.yaml's
 * components started through testcontainers for the duration of the run.
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  if (await isReachable(stackEndpoints())) {
    project.provide('stackKind', stackKind());
    return undefined;
  }
  if (await dockerAvailable()) {
    const environment = await startComposeStack();
    await migrateServiceDatabases();
    project.provide('stackKind', 'docker');
    return async () => {
      await environment.down();
    };
  }
  throw new Error('The stack is not running and no Docker engine answers: start it with `make up` (`make test` does this for you).');
}
