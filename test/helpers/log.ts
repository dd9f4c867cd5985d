// The logger for tests that run the operator in-process: silent, unless FLEDGE_TEST_LOG names a directory,
// then debug lines go to <dir>/<name>.log, so a failure seen once can be read afterwards.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import type { Logger } from 'pino';

export function testLogger(name: string): Logger {
  const dir = process.env['FLEDGE_TEST_LOG'];
  if (!dir) return pino({ level: 'silent' });
  mkdirSync(dir, { recursive: true });
  return pino({ level: 'debug' }, pino.destination({ dest: join(dir, `${name}.log`), sync: true }));
}
