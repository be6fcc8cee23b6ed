import { createAwsClients } from '#shared/aws/clients.ts';
import { configFromEnvironment, parseFunctionEnvironment } from '#shared/environment.ts';
import { forgetClient, parseForgetRequest, type ForgetResult } from '#shared/forget/forget.ts';
import { jsonLog } from '#shared/log.ts';

/**
 * Right-to-erasure Lambda, invoked by hand or by the brand's own privacy tooling:
 * `aws lambda invoke --function-name <ForgetFunctionName> --payload '{"customerId":"C123"}' out.json`
 * (or {"email": "..."}). Same code as `clientele forget`.
 */

const config = configFromEnvironment(parseFunctionEnvironment('forget', process.env).CLIENTELE_CONFIG);
const clients = createAwsClients(config);
const log = jsonLog({ write: (line) => console.log(line), fields: { function: 'forget' } });

export async function handler(event: unknown): Promise<ForgetResult> {
  const request = parseForgetRequest(event ?? {});
  return forgetClient({ config, clients, request, at: Date.now(), log });
}
