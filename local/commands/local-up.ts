import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { loadConfig } from '#shared/config.ts';
import { startLocalAws } from '#local/aws.ts';

const optionsSchema = z.object({ state: z.string(), writeConfig: z.string(), config: z.string().optional() });

/** `clientele local up`: the emulators, kept running with their data in a folder, until Ctrl-C. */
export async function localUpCommand(raw: unknown): Promise<void> {
  const options = optionsSchema.parse(raw);
  const base = await loadConfig(options.config);
  const aws = await startLocalAws({ config: base, stateDir: resolve(options.state) });
  const configFile = resolve(options.writeConfig);
  await mkdir(dirname(configFile), { recursive: true });
  await writeFile(configFile, `${JSON.stringify(aws.config, null, 2)}\n`);
  process.stdout.write(
    [
      'Local AWS is up:',
      `  DynamoDB Local  ${aws.endpoints.dynamodb}`,
      `  S3 (s3rver)     ${aws.endpoints.s3}  bucket ${aws.config.storage.exportsBucket}`,
      `  SES emulator    ${aws.endpoints.ses}  (inbox: open it in a browser; JSON at ${aws.endpoints.ses}/store)`,
      `  Data kept in    ${resolve(options.state)}`,
      `Config with these endpoints: ${configFile}`,
      `  e.g. npx clientele generate --customers 2000 --as-of 2026-11-22 --out s3://${aws.config.storage.exportsBucket}/${aws.config.storage.exportsPrefix}/2026-11-22 --config ${options.writeConfig}`,
      `       npx clientele run nightly --date 2026-11-22 --config ${options.writeConfig}`,
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
  await new Promise<void>((resolveStop) => {
    const stop = () => resolveStop();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await aws.stop();
}
