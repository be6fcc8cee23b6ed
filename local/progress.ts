import cliProgress from 'cli-progress';
import type { NightlyProgress, NightlyStep } from '#shared/nightly/summary.ts';

/**
 * A progress bar for long steps when a person is watching (stderr is a terminal); silent
 * otherwise, so logs and piped output stay clean.
 */

const LABELS: Record<NightlyStep, string> = {
  read: 'Reading export  ',
  compute: 'Computing tiers ',
  load: 'Loading state   ',
  write: 'Writing changes ',
};

export interface ProgressReporter {
  update(progress: NightlyProgress): void;
  stop(): void;
}

export function terminalProgress(enabled = process.stderr.isTTY === true): ProgressReporter {
  if (!enabled) return { update: () => undefined, stop: () => undefined };
  let bar: cliProgress.SingleBar | undefined;
  let step: NightlyStep | undefined;
  const finish = () => {
    bar?.stop();
    bar = undefined;
  };
  return {
    update(progress) {
      if (progress.step !== step) {
        finish();
        step = progress.step;
        const unit = progress.step === 'read' ? 'bytes' : 'items';
        bar = new cliProgress.SingleBar(
          {
            stream: process.stderr,
            format: `${LABELS[progress.step]} {bar} {value} ${unit}${progress.total === undefined ? '' : ' / {total}'}`,
            hideCursor: true,
            clearOnComplete: true,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(progress.total ?? progress.done, progress.done);
      }
      if (progress.total !== undefined) bar?.setTotal(progress.total);
      else bar?.setTotal(Math.max(progress.done, 1));
      bar?.update(progress.done);
    },
    stop: finish,
  };
}
