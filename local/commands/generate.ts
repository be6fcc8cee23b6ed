import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { loadTarget, targetOptionsSchema } from '#local/target.ts';
import { createS3Client } from '#shared/aws/clients.ts';
import { parseS3Url, uploadDirectory } from '#shared/aws/s3-objects.ts';
import { loadConfig } from '#shared/config.ts';
import { generateExport } from '#local/generate/generate.ts';

const optionsSchema = targetOptionsSchema.extend({
  customers: z.number().int().positive(),
  seed: z.number().int().nonnegative(),
  asOf: z.string(),
  out: z.string().min(1),
  format: z.enum(['generic', 'shopify']),
  gzip: z.boolean(),
  parts: z.number().int().positive(),
});

/** `clientele generate`: a sample export into a folder, or into S3 through a temporary folder. */
export async function generateCommand(raw: unknown): Promise<void> {
  const options = optionsSchema.parse(raw);
  const toS3 = options.out.startsWith('s3://');
  // Only an S3 destination needs AWS; a folder takes the brand settings of --config, if any.
  const config = toS3 ? (await loadTarget('generate --out s3://...', options)).config : await loadConfig(options.config);
  const dir = toS3 ? await mkdtemp(join(tmpdir(), 'clientele-generate-')) : options.out;
  try {
    const summary = await generateExport(
      {
        customers: options.customers,
        seed: options.seed,
        asOf: options.asOf,
        timeZone: config.timeZone,
        currency: config.currency,
        format: options.format,
        gzip: options.gzip,
        orderParts: options.parts,
      },
      dir,
    );
    let written = summary.files.map((file) => join(dir, file));
    if (toS3) {
      const { bucket, prefix } = parseS3Url(options.out);
      const s3 = createS3Client(config);
      try {
        written = (await uploadDirectory(s3, dir, bucket, prefix)).map((key) => `s3://${bucket}/${key}`);
      } finally {
        s3.destroy();
      }
    }
    process.stdout.write(
      `Generated ${summary.customers.toLocaleString('en-US')} clients, ${summary.orders.toLocaleString('en-US')} orders, ` +
        `${summary.orderLines.toLocaleString('en-US')} order lines (${summary.malformedRows} deliberately malformed rows):\n` +
        written.map((file) => `  ${file}\n`).join(''),
    );
  } finally {
    if (toS3) await rm(dir, { recursive: true, force: true });
  }
}
