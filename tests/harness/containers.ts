// The Docker path of the harness: when nothing is running and a Docker engine answers, start
// compose.yaml's components with testcontainers. It is the same file `make up STACK=docker`
// uses, so both paths test the same stack. (No Docker engine here: CI takes the native path.)
import { DockerComposeEnvironment, Wait, getContainerRuntimeClient, type StartedDockerComposeEnvironment } from 'testcontainers';
import { repositoryRoot } from './stack.ts';

const longRunning = ['postgres', 'kafka', 'registry', 'connect'];
const oneShot = ['kafka-init', 'connect-init'];

export async function dockerAvailable(): Promise<boolean> {
  try {
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

export async function startComposeStack(): Promise<StartedDockerComposeEnvironment> {
  let environment = new DockerComposeEnvironment(repositoryRoot, 'compose.yaml');
  for (const service of longRunning) environment = environment.withWaitStrategy(`${service}-1`, Wait.forHealthCheck());
  for (const job of oneShot) environment = environment.withWaitStrategy(`${job}-1`, Wait.forOneShotStartup());
  return environment.up([...longRunning, ...oneShot]);
}
