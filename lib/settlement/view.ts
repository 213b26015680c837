import { checkPeriod } from './errors.ts';
import type { Period } from './model.ts';
import type { SettlementDeps } from './ports.ts';
import type { SettlementRun, StatementHeader, StatementVersion } from './statementRecords.ts';

export interface StatementView {
  header: StatementHeader;
  /** Newest first; each names its files (keys in `bucket`). */
  versions: StatementVersion[];
  /** The run under way, if any. */
  activeRun?: SettlementRun;
  bucket: string;
}

/** A month's statement for the seller API: header, versions and their files, the run under way; undefined if never run. */
export async function statementView(
  deps: Pick<SettlementDeps, 'statements' | 'files'>,
  period: Period,
): Promise<StatementView | undefined> {
  checkPeriod(period);
  const header = await deps.statements.getHeader(period);
  if (!header) return undefined;
  const [versions, activeRun] = await Promise.all([
    deps.statements.listVersions(period),
    header.activeRun ? deps.statements.getRun(period, header.activeRun.runId) : Promise.resolve(undefined),
  ]);
  return { header, versions, ...(activeRun ? { activeRun } : {}), bucket: deps.files.bucket };
}
