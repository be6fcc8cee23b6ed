import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { z } from 'zod';
import { loadTarget, targetOptionsSchema } from '#local/target.ts';
import { destroyAwsClients, type AwsClients } from '#shared/aws/clients.ts';
import { cliAwsClients } from '#local/aws-errors.ts';
import { parseS3Url, readObjectText } from '#shared/aws/s3-objects.ts';
import { type Config } from '#shared/config.ts';
import type { NightlyRunSummary } from '#shared/nightly/summary.ts';
import { gatherNightlyReport, storedNightlySummary } from '#shared/nightly/report.ts';
import { renderNightlyReportHtml } from '#shared/reports/render-html.ts';
import { UsageError } from '#local/errors.ts';

const optionsSchema = targetOptionsSchema.extend({
  date: z.string(),
  out: z.string().optional(),
  open: z.boolean(),
});

/** Where a night's report goes on this machine unless told otherwise. */
export function defaultReportPath(runDate: string): string {
  return resolve(`clientele-report-${runDate}.html`);
}

/** The report of a stored night, rendered here from the runs table, the tier history and the campaign results. */
export async function renderStoredReport(config: Config, clients: AwsClients, runDate: string): Promise<string> {
  const summary = await storedNightlySummary(clients, config, runDate);
  if (!summary) throw new UsageError(`No nightly run is stored for ${runDate}: run \`clientele run nightly --date ${runDate}\` first.`);
  const report = await gatherNightlyReport({ config, clients, summary });
  return renderNightlyReportHtml(report, summary.report.reportObject ? { reportObject: summary.report.reportObject } : {});
}

/** A local copy of the report.html the nightly run wrote (what the team receives), or undefined when it wrote none. */
export async function downloadReport(clients: AwsClients, summary: NightlyRunSummary, path: string): Promise<string | undefined> {
  if (!summary.report.reportObject) return undefined;
  const { bucket, prefix: key } = parseS3Url(summary.report.reportObject);
  const html = await readObjectText(clients.s3, bucket, key);
  if (html === undefined) return undefined;
  await writeFile(path, html, 'utf8');
  return path;
}

/** Opens a file with the desktop's default application; says so instead when there is none (a server). */
export function openFile(path: string): Promise<boolean> {
  const [command, args] =
    process.platform === 'darwin' ? ['open', [path]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '', path]] : ['xdg-open', [path]];
  return new Promise((done) => {
    const child = spawn(command, args, { stdio: 'ignore', detached: true });
    child.once('error', () => done(false));
    child.once('spawn', () => {
      child.unref();
      done(true);
    });
  });
}

/** `clientele report --date D`: the nightly report of a stored night, as a local HTML file. */
export async function reportCommand(raw: unknown): Promise<void> {
  const options = optionsSchema.parse(raw);
  const config = (await loadTarget('report', options)).config;
  const clients = cliAwsClients(config);
  try {
    const html = await renderStoredReport(config, clients, options.date);
    const path = options.out ? resolve(options.out) : defaultReportPath(options.date);
    await writeFile(path, html, 'utf8');
    process.stdout.write(`${path}\n`);
    if (options.open && !(await openFile(path))) process.stderr.write(`clientele: no program to open ${path} with; open it in a browser.\n`);
  } finally {
    destroyAwsClients(clients);
  }
}
