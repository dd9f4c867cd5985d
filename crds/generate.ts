// Writes crds/*.yaml from the zod schemas (`npm run crds`). A test fails when the committed
// files differ from what this would write.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { crdFileName, crdYaml } from './crd.js';
import { allCrds } from './index.js';

const dir = path.dirname(fileURLToPath(import.meta.url));
for (const def of allCrds) {
  const file = path.join(dir, crdFileName(def));
  writeFileSync(file, crdYaml(def));
  console.log(`wrote ${path.relative(process.cwd(), file)}`);
}
