/**
 * Assembles an McpInspection: collects the signals and messages found while inspecting one
 * request, then freezes them with the transport, protocol revision and client they imply. A
 * failure that matters only on tool-restricted entries gives way to `ambiguous_path` here, so
 * every way out of the inspection applies that rule.
 *
 * Pure: no I/O, no clock, never throws.
 */
import type { RequestFacts } from '../facts.js';
import { isAmbiguousPath } from '../normalise.js';
import type { HeaderSignals } from './header-signals.js';
import { transportOf } from './header-signals.js';
import type {
  InspectionDetail,
  InspectionFailure,
  McpInspection,
  McpMessage,
} from './inspection.js';
import { isRevision } from './methods.js';

/** Accumulates signals and messages, then freezes them into an McpInspection. */
export class InspectionBuilder {
  private readonly facts: RequestFacts;
  private readonly headers: HeaderSignals;
  private readonly signals: string[];
  private readonly messages: McpMessage[] = [];
  private batch = false;

  constructor(facts: RequestFacts, headers: HeaderSignals, signals: string[]) {
    this.facts = facts;
    this.headers = headers;
    this.signals = signals;
  }

  signal(name: string): void {
    this.signals.push(name);
  }

  signalCount(): number {
    return this.signals.length;
  }

  markBatch(): void {
    this.batch = true;
  }

  addMessage(message: McpMessage): void {
    this.messages.push(message);
  }

  notMcp(why: string): McpInspection {
    this.signals.push(`not_mcp:${why}`);
    this.messages.length = 0;
    return this.build(false, undefined);
  }

  fail(
    detail: InspectionDetail,
    message: string,
    scope: InspectionFailure['scope'],
  ): McpInspection {
    return this.build(true, { detail, message, scope });
  }

  done(): McpInspection {
    return this.build(true, undefined);
  }

  private build(isMcp: boolean, found: InspectionFailure | undefined): McpInspection {
    let failure = found;
    // The path decides which entry applies, so a path servers may route elsewhere outweighs any
    // failure that matters only on tool-restricted entries.
    if (isMcp && failure?.scope !== 'always' && isAmbiguousPath(this.facts.rawPath)) {
      failure = {
        detail: 'ambiguous_path',
        message: 'the raw path has dot segments, backslashes or encoded separators',
        scope: 'always',
      };
    }
    let fromBody: string | undefined;
    let clientName: string | undefined;
    for (const m of this.messages) {
      fromBody ??= m.protocolVersion;
      clientName ??= m.clientName;
    }
    const headerVersion = this.headers.protocolVersion;
    return {
      isMcp,
      signals: this.signals,
      transport: isMcp ? transportOf(this.facts) : 'none',
      batch: this.batch,
      messages: this.messages,
      protocolVersion: isRevision(headerVersion) ? headerVersion : (fromBody ?? headerVersion),
      clientName,
      userAgent: this.facts.headers.get('user-agent'),
      headerMethod: this.headers.method,
      headerName: this.headers.name,
      failure,
    };
  }
}
