// Every CustomResourceDefinition fledge ships, in the order they are applied.
import type { CrdDefinition } from './crd.js';
import { flaggerCrds } from './schema/flagger.js';
import { networkingCrds } from './schema/networking.js';

export const allCrds: readonly CrdDefinition[] = [...networkingCrds, ...flaggerCrds];
