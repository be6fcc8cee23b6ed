import { App } from 'aws-cdk-lib';
import { isUserFacing } from '#shared/errors.ts';
import { buildClientele } from './build.ts';

/** The CDK app (cdk.json runs it with tsx). Settings come from the `clientele` context. */
const app = new App();
try {
  buildClientele(app);
} catch (error) {
  if (!isUserFacing(error)) throw error;
  // A settings (or configuration) mistake is the deployer's to fix: the message alone, no stack trace.
  console.error(error.message);
  process.exit(1);
}
