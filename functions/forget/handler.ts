import { createAwsClients } from '#shared/aws/clients.ts';
import { configFromEnvironment, parseFunctionEnvironment } from '#shared/environment.ts';
import { forgetClient, parseForgetRequest, type ForgetResult } from '#shared/forget/forget.ts';
import { instrumented, observability } from '#functions/observability.ts';

/**
 * Right-to-erasure Lambda, invoked by hand or by the brand's own privacy tooling:
 * `aws lambda invoke --function-name <ForgetFunctionName> --payload '{"customerId":"C123"}' out.json`
 * (or {"email": "..."}). Same code as `clientele forget`.
 */

const environment = parseFunctionEnvironment('forget', process.env);
const config = configFromEnvironment(environment.CLIENTELE_CONFIG);
const clients = createAwsClients(config);
const observed = observability(environment, { function: 'forget' });
const { log } = observed;

export const handler = instrumented(observed, async (event: unknown): Promise<ForgetResult> => {
  const request = parseForgetRequest(event ?? {});
  return forgetClient({ config, clients, request, at: Date.now(), log });
});
