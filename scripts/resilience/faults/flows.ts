/** Running a flow by name: fault-free, then with the k-th command failing for every k and every fault kind. */
import type { FaultContext } from './faultContext.ts';
import { FAULT_KINDS, type FaultKind } from './faultKinds.ts';
import type { CaseOutcome, Flow, FlowReport } from './outcomes.ts';
import { PRODUCE_FLOWS, type ProduceBaseline, produceFlow } from './produceFlows.ts';
import { type UsageBaseline, usageFlow } from './usageFlow.ts';

export const FLOW_NAMES = [...PRODUCE_FLOWS.map((f) => f.name), usageFlow.name] as const;

function flowNamed(name: string): Flow<ProduceBaseline> | Flow<UsageBaseline> {
  if (name === usageFlow.name) return usageFlow;
  const spec = PRODUCE_FLOWS.find((f) => f.name === name);
  if (!spec) throw new Error(`no flow ${name} (flows: ${FLOW_NAMES.join(', ')})`);
  return produceFlow(spec);
}

/** Runs a flow fault-free, then with the k-th command failing for every k and every kind that applies to it. */
export async function runFlow(ctx: FaultContext, name: string, kinds: readonly FaultKind[] = FAULT_KINDS): Promise<FlowReport> {
  const flow = flowNamed(name) as Flow<unknown>;
  const baseline = await flow.baseline(ctx);
  const cases: CaseOutcome[] = [];
  for (let k = 1; k <= baseline.commands.length; k++) {
    const command = baseline.commands[k - 1]!;
    for (const kind of kinds) {
      if (kind.only && kind.only !== command) continue;
      cases.push(await flow.faulted(ctx, baseline, k, kind));
    }
  }
  return { flow: flow.name, title: flow.title, commands: baseline.commands, cases };
}
