import { App } from 'aws-cdk-lib';
import { buildClientele } from './build.ts';
import { SettingsError } from './settings.ts';

/** The CDK app (cdk.json runs it with tsx). Settings come from the `clientele` context. */
const app = new App();
try {
  buildClientele(app);
} catch (error) {
  if (!(error instanceof SettingsError)) throw error;
  // A settings mistake is the deployer's to fix: the message alone, no stack trace.
  console.error(error.message);
  process.exit(1);
}
