/**
 * A real MCP server (the TypeScript SDK's McpServer behind its web-standard Streamable HTTP
 * transport, stateless, as hosted servers commonly run) that receives exact request bytes in
 * process: the proof that a request the regression tests send is one a real server executes.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';

/** Sends one POST to a fresh stateless server offering `tools`; returns the tools it ran. */
export async function toolsRunBySdkServer(
  tools: readonly string[],
  headers: readonly (readonly [string, string])[],
  body: Uint8Array,
): Promise<string[]> {
  const ran: string[] = [];
  const server = new McpServer({ name: 'regression-target', version: '1.0.0' });
  for (const name of tools) {
    server.registerTool(name, { description: name }, () => {
      ran.push(name);
      return { content: [{ type: 'text', text: 'done' }] };
    });
  }
  // No sessionIdGenerator: stateless, so no Mcp-Session-Id is needed.
  const transport = new WebStandardStreamableHTTPServerTransport({ enableJsonResponse: true });
  await server.connect(transport);
  try {
    const response = await transport.handleRequest(
      new Request('http://mcp.example.test/mcp', {
        method: 'POST',
        headers: headers.map(([k, v]) => [k, v] as [string, string]),
        body: Buffer.from(body),
      }),
    );
    await response.text();
  } finally {
    await server.close();
  }
  return ran;
}
