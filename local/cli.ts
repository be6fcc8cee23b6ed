// The `clientele` command line entry (npm scripts and bin/clientele.mjs run this file).
// Node 20 is supported until the SDK drops it; its early warning would only clutter the output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { main } = await import('./program.ts');
await main(process.argv);
